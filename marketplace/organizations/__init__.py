"""Organizations: provider firms (BPO/ITO/KPO) and client companies, with members."""
