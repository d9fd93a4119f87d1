"""The shapes of identifiers and prices the API accepts, for every layer that checks them (models, both APIs)."""

SKU_PATTERN = r"^[A-Za-z0-9._-]+$"
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
PRICE_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
LOCATION_CODE_PATTERN = r"^[a-z0-9_-]+$"  # 1-32 characters (max_length)

# The ETag a product's representation is sent with (its detail, its stock, the answer to a write of it).
ETAG_PATTERN = r'^"[0-9]+"$'
ETAG_DESCRIPTION = 'The product\'s version as a strong tag ("3"); send it in If-Match to write over that version only.'
