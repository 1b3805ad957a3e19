"""`labourledger serve`: the read-only verification page and JSON API behind a product's QR."""
