"""The measured record: service hours and SLA clocks, KPIs against targets, work reports,
changes and learning speed, SLA events, reviews, and the providers' record."""
