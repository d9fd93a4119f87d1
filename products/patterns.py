"""The shapes of identifiers and prices the API accepts, for every layer that checks them (models, both APIs)."""

SKU_PATTERN = r"^[A-Za-z0-9._-]+$"
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
PRICE_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
LOCATION_CODE_PATTERN = r"^[a-z0-9_-]+$"  # 1-32 characters (max_length)
