"""Schemas of the measured record."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from marketplace.pagination import PageArgsSchema
from marketplace.schemas import BaseSchema

# Reviews ----------------------------------------------------------------------------------

#: The longest review text.
MAX_REVIEW_TEXT = 5_000
_PROVIDER_SUB_RATINGS = ("quality", "communication", "timeliness", "expertise")
_CLIENT_SUB_RATINGS = ("clarity", "responsiveness", "payment_promptness")


class RatingField(ma.fields.Integer):
    """A whole rating from 1 to 5 (not `true`, `4.5` or `"4"`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=ma.validate.Range(min=1, max=5), **kwargs)

    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class ReviewInputSchema(BaseSchema):
    """One side's review of the other after the contract ended."""

    rating = RatingField(required=True, metadata={"description": "The overall rating, 1-5."})
    sub_ratings = ma.fields.Dict(
        keys=ma.fields.String(
            validate=ma.validate.OneOf([*_PROVIDER_SUB_RATINGS, *_CLIENT_SUB_RATINGS])
        ),
        values=RatingField(),
        required=True,
        metadata={
            "description": "Each 1-5, all required for your side and only those: the client "
            f"side rates the provider's {', '.join(_PROVIDER_SUB_RATINGS)}; the provider "
            f"side rates the client's {', '.join(_CLIENT_SUB_RATINGS)}."
        },
    )
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_REVIEW_TEXT))

    @ma.validates("text")
    def _not_blank(self, value: str, **_: object) -> None:
        if not value.strip():
            raise ma.ValidationError("The review is empty.")


class ReviewSchema(BaseSchema):
    """A review of a contract as its reader sees it."""

    id = ma.fields.UUID(attribute="review.id", required=True)
    contract_id = ma.fields.UUID(attribute="review.contract_id", required=True)
    side = ma.fields.String(
        attribute="review.side",
        required=True,
        metadata={"description": "Who wrote it: `client` (of the provider) or `provider`."},
    )
    rating = ma.fields.Integer(attribute="review.rating", required=True)
    sub_ratings = ma.fields.Dict(
        attribute="review.sub_ratings", keys=ma.fields.String(), values=ma.fields.Integer()
    )
    text = ma.fields.String(attribute="review.text", required=True)
    created_at = ma.fields.DateTime(attribute="review.created_at", required=True)
    published = ma.fields.Boolean(
        required=True,
        metadata={"description": "False while hidden: only your own side's review is shown then."},
    )
    published_at = ma.fields.DateTime(
        allow_none=True,
        required=True,
        metadata={
            "description": "When both reviews were published (the second review's time), or "
            "the review window's close for a side that reviewed alone; null while hidden."
        },
    )


class ContractReviewsSchema(BaseSchema):
    """A contract's reviews: the published ones, and your side's hidden one."""

    items = ma.fields.List(ma.fields.Nested(ReviewSchema), required=True)
    window_closes_at = ma.fields.DateTime(
        allow_none=True,
        required=True,
        metadata={"description": "The end of the review window; null before the contract ends."},
    )


class ProviderReviewSchema(BaseSchema):
    """A published review of a provider by one of its clients."""

    id = ma.fields.UUID(attribute="review.id", required=True)
    rating = ma.fields.Integer(attribute="review.rating", required=True)
    sub_ratings = ma.fields.Dict(
        attribute="review.sub_ratings", keys=ma.fields.String(), values=ma.fields.Integer()
    )
    text = ma.fields.String(attribute="review.text", required=True)
    published_at = ma.fields.DateTime(required=True)
    reviewer_name = ma.fields.String(
        required=True, metadata={"description": "The client's company or name."}
    )
    task_title = ma.fields.String(required=True, metadata={"description": "The contract's task."})


class ReviewSummarySchema(BaseSchema):
    """The average and number of a provider's published reviews."""

    average_rating = ma.fields.Float(allow_none=True, required=True)
    count = ma.fields.Integer(required=True)


class ProviderReviewPageSchema(BaseSchema):
    """A page of a provider's published reviews, newest first, with their summary."""

    items = ma.fields.List(ma.fields.Nested(ProviderReviewSchema), required=True)
    page = ma.fields.Integer(required=True)
    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    summary = ma.fields.Nested(
        ReviewSummarySchema,
        required=True,
        metadata={"description": "Over all the provider's published reviews, not this page's."},
    )


ProviderReviewQuerySchema = PageArgsSchema
