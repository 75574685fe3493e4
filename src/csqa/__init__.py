"""csqa: QA-audit customer-service call transcripts against service-norm rulesets."""

__version__ = "0.1.0"
