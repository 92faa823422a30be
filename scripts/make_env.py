"""Print a .env with fresh random secrets for a local demo."""

import secrets

print(f"SECRET_KEY={secrets.token_urlsafe(48)}")
print(f"PORTAL_IDENTITY_SECRET={secrets.token_urlsafe(48)}")
print(f"ARTICLE_PUSH_API_KEY={secrets.token_urlsafe(32)}")
print("SESSION_COOKIE_SECURE=false")
