"""SMART App Launch 2.2: discovery, PKCE, token exchange and the server-side launch session store."""
