"""Print a .env with fresh random secrets for a local demo."""

import secrets

print(f"SECRET_KEY={secrets.token_urlsafe(48)}")
print(f"PORTAL_IDENTITY_SECRET={secrets.token_urlsafe(48)}")
print(f"ARTICLE_PUSH_API_KEY={secrets.token_urlsafe(32)}")
print("SESSION_COOKIE_SECURE=false")
# The demo city issues qualified invoices; a real deployment uses the city's own T-number.
print("INVOICE_ISSUER_NAME=会津若松市 ポータル広告事業")
print("INVOICE_ISSUER_REGISTRATION_NUMBER=T1000020072027")
# Fictional: invoices name the account to pay into, and issuing refuses to start without one.
print("INVOICE_BANK_ACCOUNT=東邦銀行 会津支店 普通 1234567 アイヅワカマツシ")
