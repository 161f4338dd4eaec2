"""The official Python SDK (facebook-business) against Meta Monitor's simulator.

Shop developers point their own backends at `meta-monitor simulate`; the SDK is the client no
one here wrote. Every endpoint the simulator serves is read through the SDK's own objects, a
Conversions API EventRequest and a catalog items_batch are sent, and the scenarios' errors are
read through the SDK's error class. Prints one line per check; exits 1 on the first surprise.

Usage: python_conformance.py SIM_URL   (the simulator's base URL, scenario `healthy`)
"""

import re
import sys
import warnings
import time
import urllib.request

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adspixel import AdsPixel
from facebook_business.adobjects.application import Application
from facebook_business.adobjects.productcatalog import ProductCatalog
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.event_request import EventRequest
from facebook_business.adobjects.serverside.user_data import UserData
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.user import User
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

# The simulator's fixed identifiers (graph-sim/src/lib.rs); the tokens are obviously fake.
APP_ID = "1234567890"
APP_SECRET = "sim-app-secret-not-real"
AD_ACCOUNT = "act_2369703843357278"
PIXEL_ID = "1202835294532393"
CATALOG_ID = "5551234567890"
TOKEN = "fake-sdk-conformance-token"
VERSION = "v25.0"


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    print(f"ok   {name}")


def set_scenario(base, scenario):
    request = urllib.request.Request(f"{base}/__admin/scenario/{scenario}", method="PUT")
    urllib.request.urlopen(request).read()


def api_for(base, token):
    session = FacebookSession(APP_ID, APP_SECRET, token)
    session.GRAPH = base
    return FacebookAdsApi(session, api_version=VERSION)


def main():
    # The SDK's generated type hints call items_batch's `requests` a map; Meta documents a list.
    warnings.filterwarnings("ignore", message="value of requests might not be compatible")
    base = sys.argv[1].rstrip("/")
    set_scenario(base, "healthy")
    api = api_for(base, TOKEN)
    FacebookAdsApi.set_default_api(api)

    me = User(fbid="me", api=api).api_get(fields=["id", "name"])
    check("me", me["id"], me)

    account = AdAccount(AD_ACCOUNT, api=api).api_get(
        fields=["name", "currency", "account_status", "amount_spent", "timezone_name"]
    )
    check("ad account", account["account_status"] == 1 and account["currency"], account)

    insights = AdAccount(AD_ACCOUNT, api=api).get_insights(
        params={"date_preset": "last_7d", "level": "account"},
        fields=["spend", "actions", "action_values", "cost_per_action_type", "purchase_roas"],
    )
    rows = list(insights)
    check("insights", len(rows) == 1 and "spend" in rows[0], rows)

    campaigns = AdAccount(AD_ACCOUNT, api=api).get_campaigns(
        params={"effective_status": ["ACTIVE"], "summary": "total_count", "limit": 1},
        fields=["id"],
    )
    total = campaigns.total()
    check("campaigns summary", isinstance(total, int) and total > 0, total)

    pixel = AdsPixel(PIXEL_ID, api=api).api_get(fields=["name", "last_fired_time", "is_unavailable"])
    check("pixel", pixel["name"] and pixel["last_fired_time"], pixel)

    now = int(time.time())
    stats = AdsPixel(PIXEL_ID, api=api).get_stats(
        params={"aggregation": "event_source", "start_time": now - 6 * 3600, "end_time": now}
    )
    buckets = list(stats)
    sources = {entry["value"] for bucket in buckets for entry in bucket["data"]}
    check("pixel stats by source", {"browser", "server"} <= sources, sources)

    catalog = ProductCatalog(CATALOG_ID, api=api).api_get(fields=["name", "product_count", "vertical"])
    check("catalog", catalog["vertical"] == "commerce", catalog)

    batch = ProductCatalog(CATALOG_ID, api=api).create_items_batch(
        params={
            "item_type": "PRODUCT_ITEM",
            "requests": [
                {
                    "method": "UPDATE",
                    "data": {
                        "id": "SDK-1",
                        "title": "SDK mug",
                        "description": "A mug sent by the official SDK",
                        "availability": "in stock",
                        "condition": "new",
                        "price": "12.34 USD",
                        "link": "https://shop.example/sdk-mug",
                        "image_link": "https://shop.example/sdk-mug.jpg",
                        "brand": "Acme",
                    },
                }
            ],
        }
    )
    handles = batch.get("handles") or []
    check("items_batch", len(handles) == 1, batch)
    status = ProductCatalog(CATALOG_ID, api=api).get_check_batch_request_status(
        params={"handle": handles[0], "load_ids_of_invalid_requests": True}
    )
    check("check_batch_request_status", len(list(status)) == 1, status)

    products = ProductCatalog(CATALOG_ID, api=api).get_products(
        fields=["retailer_id", "name", "review_status"], params={"limit": 10}
    )
    check("products", len(list(products)) >= 1, products)

    app_api = api_for(base, f"{APP_ID}|{APP_SECRET}")
    subscriptions = Application(APP_ID, api=app_api).get_subscriptions()
    check("app subscriptions (app token)", len(list(subscriptions)) >= 1, subscriptions)

    user_data = UserData(
        emails=["John_Smith@gmail.com"],
        phones=["+1 (650) 555-1212"],
        client_ip_address="203.0.113.7",
        client_user_agent="Mozilla/5.0",
        fbp="fb.1.1596403881668.1116446470",
    )
    event = Event(
        event_name="Purchase",
        event_time=now - 30,
        event_id="sdk-order-1",
        action_source=ActionSource.WEBSITE,
        event_source_url="https://shop.example/thanks",
        user_data=user_data,
        custom_data=CustomData(currency="eur", value=54.9),
    )
    response = EventRequest(
        pixel_id=PIXEL_ID, events=[event], test_event_code="TEST12345"
    ).execute()
    check("EventRequest.execute", response.events_received == 1, response)

    # Meta's errors through the SDK's error class: code, subcode, transient flag.
    set_scenario(base, "token-invalid")
    try:
        User(fbid="me", api=api).api_get(fields=["id"])
        check("expired token raises", False, "no error")
    except FacebookRequestError as e:
        check(
            "expired token: 190/463, not transient",
            e.api_error_code() == 190 and e.api_error_subcode() == 463 and not e.api_transient_error(),
            (e.api_error_code(), e.api_error_subcode(), e.api_transient_error(), e.api_error_message()),
        )
        wording = r"Session has expired on \w+day, \d\d-\w{3}-\d\d \d\d:\d\d:\d\d P[SD]T\. The current time is"
        check("Meta's wording", re.search(wording, e.api_error_message()), e.api_error_message())
    set_scenario(base, "throttled")
    try:
        AdAccount(AD_ACCOUNT, api=api).get_insights(params={"date_preset": "today"}, fields=["spend"])
        check("throttled raises", False, "no error")
    except FacebookRequestError as e:
        check("throttled: 80000-range code", e.api_error_code() in (80000, 80004, 17, 613), e.api_error_code())
    set_scenario(base, "outage")
    try:
        Application(APP_ID, api=app_api).get_subscriptions()
        check("outage raises", False, "no error")
    except FacebookRequestError as e:
        check("outage: transient", e.api_transient_error() or e.http_status() >= 500, (e.http_status(), e.api_error_code()))
    set_scenario(base, "healthy")
    print("all checks passed")


if __name__ == "__main__":
    main()
