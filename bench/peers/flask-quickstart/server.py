"""The Auth0 Flask quickstart's login app (Flask + Authlib), for the benchmark.

Written from Auth0's public "Add Login to Your Flask Application" guide: Authlib registers the
tenant by its discovery document; /login redirects there, /callback stores the token response in
Flask's signed cookie session, /logout clears it and goes through Auth0's /v2/logout.
"""

import os
from urllib.parse import quote_plus, urlencode

from authlib.integrations.flask_client import OAuth
from dotenv import find_dotenv, load_dotenv
from flask import Flask, redirect, render_template, session

if find_dotenv():
    load_dotenv(find_dotenv())

DOMAIN = os.environ["AUTH0_DOMAIN"]
# A bare domain is https; a URL with a scheme points at a local provider.
ISSUER = DOMAIN.rstrip("/") if "://" in DOMAIN else f"https://{DOMAIN}"
BASE_URL = os.environ.get("APP_BASE_URL", f"http://localhost:{os.environ.get('PORT', '3000')}")

app = Flask(__name__)
app.secret_key = os.environ["APP_SECRET_KEY"]

oauth = OAuth(app)
oauth.register(
    "auth0",
    client_id=os.environ["AUTH0_CLIENT_ID"],
    client_secret=os.environ["AUTH0_CLIENT_SECRET"],
    client_kwargs={"scope": "openid profile email"},
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
)


@app.route("/login")
def login():
    return oauth.auth0.authorize_redirect(redirect_uri=f"{BASE_URL}/callback")


@app.route("/callback", methods=["GET", "POST"])
def callback():
    session["user"] = oauth.auth0.authorize_access_token()
    return redirect("/")


@app.route("/logout")
def logout():
    session.clear()
    query = urlencode(
        {"returnTo": BASE_URL, "client_id": os.environ["AUTH0_CLIENT_ID"]},
        quote_via=quote_plus,
    )
    return redirect(f"{ISSUER}/v2/logout?{query}")


@app.route("/")
def home():
    return render_template("home.html", session=session.get("user"))


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "3000")))
