// Drives FedaPay's official Node library (npm `fedapay`, pinned in package.json) against the mock through its
// public Payout API. Usage: node check.js http://127.0.0.1:PORT
// Prints one JSON line: {"step": {"ok": true, ...values the library handed back} | {"ok": false, "error": ...}}.
'use strict';
const { FedaPay, Payout } = require('fedapay');

const root = process.argv[2];
FedaPay.setApiKey('sk_sandbox_node_library');
FedaPay.setEnvironment('sandbox');
FedaPay.setApiBase(root);

const steps = {};
async function step(name, fn) {
  try {
    steps[name] = Object.assign({ ok: true }, await fn());
  } catch (error) {
    const status = error && (error.httpStatus || (error.errorResponse && error.errorResponse.status));
    steps[name] = { ok: false, error: String(error && error.message ? error.message : error).slice(0, 300), status: status || null };
  }
}

const body = (number, reference) => ({
  amount: 2000,
  currency: { iso: 'XOF' },
  mode: 'mtn_open',
  merchant_reference: reference,
  description: 'Node library check',
  customer: { firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.com', phone_number: { number, country: 'bj' } },
});

async function main() {
  const p = [];
  await step('create', async () => {
    for (let i = 0; i < 7; i++) p.push(await Payout.create(body(`+2299780808${i}`, `node-ref-${i}`)));
    return { ids: p.map((x) => x.id), klass: p[0].klass, status: p[0].status, amount: p[0].amount,
      merchant_reference: p[0].merchant_reference, description: p[0].description };
  });
  await step('retrieve', async () => {
    const r = await Payout.retrieve(p[0].id);
    return { id: r.id, amount: r.amount, status: r.status, reference: r.reference, commission: r.commission };
  });
  await step('all', async () => {
    const list = await Payout.all({ per_page: 2, page: 1 });
    return { ids: list.payouts.map((x) => x.id), total_count: list.meta.total_count, next_page: list.meta.next_page };
  });
  await step('update', async () => {
    const u = await Payout.update(p[1].id, { description: 'Updated by Node', amount: 2500 });
    return { description: u.description, amount: u.amount, amount_transferred: u.amount_transferred };
  });
  await step('save_unchanged_on_server', async () => {
    const before = await Payout.retrieve(p[2].id);
    let libraryError = null;
    try { await before.save(); } catch (error) { libraryError = String(error && error.message); }
    const after = await Payout.retrieve(p[2].id);
    return { updated_at_kept: after.updated_at === before.updated_at, amount: after.amount,
      description: after.description, library_error: libraryError };
  });
  await step('save_changed_on_server', async () => {
    const payout = await Payout.retrieve(p[2].id);
    payout.description = 'Saved by Node';
    try { await payout.save(); } catch (error) { /* the reply is read under a wrong key: see save_refreshes */ }
    return { stored: (await Payout.retrieve(p[2].id)).description };
  });
  await step('save_refreshes', async () => {
    const payout = await Payout.retrieve(p[2].id);
    payout.amount = 3000;
    const saved = await payout.save();
    // The server recomputes the fees; a save that refreshes the object from the reply shows them.
    return { amount: saved.amount, amount_transferred: saved.amount_transferred };
  });
  await step('send_now', async () => {
    await p[0].sendNow();
    return { status: p[0].status, started: p[0].started_at !== null };
  });
  await step('schedule', async () => {
    const when = new Date(Date.UTC(2099, 10, 23, 18, 42, 30));
    await p[1].schedule(when);
    return { status: p[1].status, scheduled_at: p[1].scheduled_at };
  });
  await step('schedule_all', async () => {
    const out = await Payout.scheduleAll([{ id: p[3].id, scheduled_at: '2099-01-01 10:00:00' }]);
    return { statuses: out.payouts.map((x) => x.status), scheduled_at: out.payouts[0].scheduled_at };
  });
  await step('send_all_now', async () => {
    const out = await Payout.sendAllNow([{ id: p[4].id }, { id: p[5].id }]);
    return { ids: out.payouts.map((x) => x.id), statuses: out.payouts.map((x) => x.status) };
  });
  await step('delete', async () => {
    await p[6].delete();
    let after = 'still there';
    try { await Payout.retrieve(p[6].id); } catch (error) {
      after = error.httpStatus || (error.errorResponse && error.errorResponse.status) || String(error);
    }
    return { retrieve_after: after };
  });
  await step('error_422', async () => {
    try {
      await Payout.create({ amount: 0, currency: { iso: 'XOF' }, mode: 'mtn_open' });
      return { status: null };
    } catch (error) {
      return { status: error.httpStatus || (error.errorResponse && error.errorResponse.status) || null };
    }
  });
  process.stdout.write(JSON.stringify(steps) + '\n');
}

main().catch((error) => {
  process.stderr.write(`node check failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
