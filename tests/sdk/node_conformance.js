// The official Node.js SDK (facebook-nodejs-business-sdk) against Meta Monitor's simulator:
// every endpoint the simulator serves read through the SDK's objects, a Conversions API
// EventRequest and a catalog items_batch sent, the scenarios' errors read through the SDK's
// FacebookRequestError. One line per check; exits 1 on the first surprise.
//
// Usage: node node_conformance.js SIM_URL   (run where the SDK is installed)
'use strict';

const sdk = require('facebook-nodejs-business-sdk');

const { FacebookAdsApi, AdAccount, AdsPixel, Application, ProductCatalog, User } = sdk;
const { EventRequest, ServerEvent, UserData, CustomData } = sdk;

// The simulator's fixed identifiers (graph-sim/src/lib.rs); the tokens are obviously fake.
const APP_ID = '1234567890';
const APP_SECRET = 'sim-app-secret-not-real';
const AD_ACCOUNT = 'act_2369703843357278';
const PIXEL_ID = '1202835294532393';
const CATALOG_ID = '5551234567890';
const TOKEN = 'fake-sdk-conformance-token';

const base = (process.argv[2] || '').replace(/\/$/, '');
// Every SDK call goes to the simulator: FacebookAdsApi.GRAPH is the one place the SDK reads
// its host from (a static getter, so it is redefined rather than assigned).
Object.defineProperty(FacebookAdsApi, 'GRAPH', { get: () => base });

function check(name, condition, detail) {
  if (!condition) {
    console.log(`FAIL ${name}: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
  console.log(`ok   ${name}`);
}

async function setScenario(name) {
  const res = await fetch(`${base}/__admin/scenario/${name}`, { method: 'PUT' });
  if (!res.ok) throw new Error(`scenario ${name}: ${res.status}`);
}

async function expectError(name, call, test) {
  try {
    await call();
  } catch (e) {
    // The SDK does not export its error class; it names it.
    check(name, e && e.name === 'FacebookRequestError' && test(e.response || {}), {
      status: e.status,
      response: e.response,
    });
    return;
  }
  check(name, false, 'no error');
}

async function main() {
  await setScenario('healthy');
  // No crash reports: the SDK would post them to GRAPH.
  FacebookAdsApi.init(TOKEN, 'en_US', false);

  const me = await new User('me').get(['id', 'name']);
  check('me', me.id, me._data);

  const account = await new AdAccount(AD_ACCOUNT).get(['name', 'currency', 'account_status', 'timezone_name']);
  check('ad account', account.account_status === 1 && account.currency, account._data);

  const insights = await new AdAccount(AD_ACCOUNT).getInsights(
    ['spend', 'actions', 'action_values', 'cost_per_action_type', 'purchase_roas'],
    { date_preset: 'last_7d', level: 'account' },
  );
  check('insights', insights.length === 1 && insights[0].spend !== undefined, insights.map((r) => r._data));

  const campaigns = await new AdAccount(AD_ACCOUNT).getCampaigns(['id'], {
    effective_status: ['ACTIVE'],
    summary: 'total_count',
    limit: 1,
  });
  check('campaigns summary', campaigns.summary && campaigns.summary.total_count > 0, campaigns.summary);

  const pixel = await new AdsPixel(PIXEL_ID).get(['name', 'last_fired_time', 'is_unavailable']);
  check('pixel', pixel.name && pixel.last_fired_time, pixel._data);

  const now = Math.floor(Date.now() / 1000);
  const stats = await new AdsPixel(PIXEL_ID).getStats([], {
    aggregation: 'event_source',
    start_time: now - 6 * 3600,
    end_time: now,
  });
  const sources = new Set(stats.flatMap((bucket) => bucket.data.map((entry) => entry.value)));
  check('pixel stats by source', sources.has('browser') && sources.has('server'), [...sources]);

  const catalog = await new ProductCatalog(CATALOG_ID).get(['name', 'product_count', 'vertical']);
  check('catalog', catalog.vertical === 'commerce', catalog._data);

  const batch = await new ProductCatalog(CATALOG_ID).createItemsBatch([], {
    item_type: 'PRODUCT_ITEM',
    requests: [
      {
        method: 'UPDATE',
        data: {
          id: 'SDK-NODE-1',
          title: 'Node mug',
          description: 'A mug sent by the official Node SDK',
          availability: 'in stock',
          condition: 'new',
          price: '12.34 USD',
          link: 'https://shop.example/node-mug',
          image_link: 'https://shop.example/node-mug.jpg',
          brand: 'Acme',
        },
      },
    ],
  });
  const handles = batch.handles || batch._data?.handles || [];
  check('items_batch', handles.length === 1, batch._data || batch);
  const status = await new ProductCatalog(CATALOG_ID).getCheckBatchRequestStatus([], {
    handle: handles[0],
    load_ids_of_invalid_requests: true,
  });
  check('check_batch_request_status', status.length === 1, status.map((s) => s._data));

  const products = await new ProductCatalog(CATALOG_ID).getProducts(['retailer_id', 'name', 'review_status'], { limit: 10 });
  check('products', products.length >= 1, products.length);

  FacebookAdsApi.init(`${APP_ID}|${APP_SECRET}`, 'en_US', false);
  const subscriptions = await new Application(APP_ID).getSubscriptions([]);
  check('app subscriptions (app token)', subscriptions.length >= 1, subscriptions.length);
  FacebookAdsApi.init(TOKEN, 'en_US', false);

  const userData = new UserData()
    .setEmails(['John_Smith@gmail.com'])
    .setPhones(['+1 (650) 555-1212'])
    .setClientIpAddress('203.0.113.7')
    .setClientUserAgent('Mozilla/5.0')
    .setFbp('fb.1.1596403881668.1116446470');
  const event = new ServerEvent()
    .setEventName('Purchase')
    .setEventTime(now - 30)
    .setEventId('sdk-node-order-1')
    .setActionSource('website')
    .setEventSourceUrl('https://shop.example/thanks')
    .setUserData(userData)
    .setCustomData(new CustomData().setCurrency('eur').setValue(54.9));
  const response = await new EventRequest(TOKEN, PIXEL_ID).setEvents([event]).setTestEventCode('TEST12345').execute();
  check('EventRequest.execute', response.events_received === 1, response);

  await setScenario('token-invalid');
  await expectError('expired token: 190/463, not transient', () => new User('me').get(['id']), (r) => {
    const e = r.error || r;
    return e.code === 190 && e.error_subcode === 463 && !e.is_transient && /Session has expired on \w+day, /.test(e.message);
  });
  await setScenario('throttled');
  await expectError('throttled: 80000-range code', () => new AdAccount(AD_ACCOUNT).getInsights(['spend'], { date_preset: 'today' }), (r) =>
    [80000, 80004, 17, 613].includes((r.error || r).code),
  );
  await setScenario('outage');
  FacebookAdsApi.init(`${APP_ID}|${APP_SECRET}`, 'en_US', false);
  await expectError('outage: transient', () => new Application(APP_ID).getSubscriptions([]), (r) => (r.error || r).is_transient === true);
  await setScenario('healthy');
  console.log('all checks passed');
}

main().catch((e) => {
  console.log(`FAIL unexpected: ${e && e.stack ? e.stack : JSON.stringify(e)}`);
  process.exit(1);
});
