"""Municipal articles: validation, storage and bulk import."""
