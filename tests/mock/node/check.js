// Drives FedaPay's official Node library (npm `fedapay`, pinned in package.json) against the mock.
// Usage: node check.js http://127.0.0.1:PORT   Prints one JSON summary line; exits 1 on any failure.
'use strict';
const { FedaPay, Payout } = require('fedapay');

const root = process.argv[2];
FedaPay.setApiKey('sk_sandbox_node_library');
FedaPay.setEnvironment('sandbox');
FedaPay.setApiBase(root);

const customer = (number) => ({
  firstname: 'Ada',
  lastname: 'Lovelace',
  email: 'ada@example.com',
  phone_number: { number, country: 'bj' },
});

async function main() {
  const now = await Payout.create({ amount: 2000, currency: { iso: 'XOF' }, mode: 'mtn_open', customer: customer('+22997808080') });
  const later = await Payout.create({ amount: 3000, currency: { iso: 'XOF' }, mode: 'moov', customer: customer('+22966000001') });
  const doomed = await Payout.create({ amount: 4000, currency: { iso: 'GNF' }, mode: 'mtn_open_gn', customer: customer('+22461000002') });

  const retrieved = await Payout.retrieve(now.id);
  const listed = await Payout.all({ per_page: 2, page: 1 });

  await now.sendNow();
  const when = new Date(Date.now() + 3600 * 1000);
  await later.schedule(when);

  await doomed.delete();
  let deletedStatus = null;
  try {
    await Payout.retrieve(doomed.id);
  } catch (error) {
    deletedStatus = error.httpStatus || (error.errorResponse && error.errorResponse.status) || String(error);
  }

  const summary = {
    created: [now.id, later.id, doomed.id],
    created_klass: now.klass,
    created_status: retrieved.status,
    created_commission: retrieved.commission,
    retrieved_id: retrieved.id,
    retrieved_amount: retrieved.amount,
    listed_ids: listed.payouts.map((p) => p.id),
    listed_total: listed.meta.total_count,
    listed_next_page: listed.meta.next_page,
    sent_now_status: now.status,
    scheduled_status: later.status,
    scheduled_at: later.scheduled_at,
    scheduled_for: when.toISOString(),
    deleted_status: deletedStatus,
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((error) => {
  process.stderr.write(`node check failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
