# Drives FedaPay's official Ruby library (../shared/vendor/fedapay-ruby, `ruby -I lib`, no RubyGems install)
# against the mock through its public Payout API. Usage: ruby -I VENDOR/fedapay-ruby/lib check.rb http://127.0.0.1:PORT
# Prints one JSON line: {"step": {"ok": true, ...values the library handed back} | {"ok": false, "error": ...}}.
require 'json'
require 'time'
require 'fedapay'

FedaPay.api_key = 'sk_sandbox_ruby_library'
FedaPay.environment = 'sandbox'
FedaPay.api_base = ARGV[0]

STEPS = {}
def step(name)
  STEPS[name] = { ok: true }.merge(yield)
rescue StandardError => e
  status = e.respond_to?(:http_status) ? e.http_status : nil
  STEPS[name] = { ok: false, error: "#{e.class}: #{e.message}"[0, 300], status: status }
end

def body(number, reference)
  {
    amount: 2000, currency: { iso: 'XOF' }, mode: 'mtn_open', merchant_reference: reference,
    description: 'Ruby library check',
    customer: { firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.com',
                phone_number: { number: number, country: 'bj' } }
  }
end

p = []
step('create') do
  6.times { |i| p << FedaPay::Payout.create(body("+2299780808#{i}", "ruby-ref-#{i}")) }
  { ids: p.map(&:id), class: p[0].class.name, status: p[0].status, amount: p[0].amount,
    merchant_reference: p[0].merchant_reference, description: p[0].description }
end
step('retrieve') do
  r = FedaPay::Payout.retrieve(p[0].id)
  { class: r.class.name, id: r.id, amount: r.amount, status: r.status, reference: r.reference,
    commission: r.commission }
end
step('list') do
  list = FedaPay::Payout.list(per_page: 2, page: 1)
  { ids: list.data.map(&:id), item_class: list.data[0].class.name }
end
step('search') do
  found = FedaPay::Payout.search(search: 'ruby-ref-1')
  by_reference = FedaPay::Payout.search(search: p[2].reference)
  { ids: found.data.map(&:id), by_reference: by_reference.data.map(&:id) }
end
step('update') do
  u = FedaPay::Payout.update(p[1].id, description: 'Updated by Ruby', amount: 2500)
  { class: u.class.name, description: u.description, amount: u.amount, amount_transferred: u.amount_transferred }
end
step('save') do
  payout = FedaPay::Payout.retrieve(p[2].id)
  payout.description = 'Saved by Ruby'
  payout.save
  { returned: payout.description, stored: FedaPay::Payout.retrieve(p[2].id).description }
end
step('refresh') do
  payout = FedaPay::Payout.retrieve(p[1].id)
  payout.refresh
  { amount: payout.amount, description: payout.description }
end
step('send_now') do
  reply = p[0].send_now
  fresh = FedaPay::Payout.retrieve(p[0].id)
  { reply_status: reply[:'v1/payouts'][0].status, status: fresh.status }
end
step('schedule') do
  reply = p[1].schedule(Time.utc(2099, 11, 23, 18, 42, 30))
  fresh = FedaPay::Payout.retrieve(p[1].id)
  { reply_status: reply[:'v1/payouts'][0].status, status: fresh.status, scheduled_at: fresh.scheduled_at }
end
step('schedule_local_time') do
  p[4].schedule(Time.new(2099, 11, 23, 19, 42, 30, '+01:00'))
  fresh = FedaPay::Payout.retrieve(p[4].id)
  { status: fresh.status, scheduled_at: fresh.scheduled_at }
end
step('start') do
  reply = p[3].start(payouts: [{ id: p[3].id }])
  { statuses: reply[:'v1/payouts'].map(&:status) }
end
step('schedule_all') do
  reply = FedaPay::Payout.schedule_all([{ 'id' => p[2].id, 'scheduled_at' => '2099-01-01 10:00:00' }])
  { statuses: reply[:'v1/payouts'].map(&:status) }
end
step('send_all_now') do
  reply = FedaPay::Payout.send_all_now([{ 'id' => p[2].id }])
  { statuses: reply[:'v1/payouts'].map(&:status) }
end
step('delete') do
  id = p[5].id
  # The library re-initialises the object from the whole reply (it does not unwrap `v1/payout`).
  deleted = p[5].delete[:'v1/payout']
  after = begin
    FedaPay::Payout.retrieve(id)
    'still there'
  rescue FedaPay::FedaPayError => e
    e.http_status
  end
  { deleted_id: deleted[:id], deleted_at_set: !deleted[:deleted_at].nil?, retrieve_after: after }
end
step('error_422') do
  FedaPay::Payout.create(amount: 0, currency: { iso: 'XOF' }, mode: 'mtn_open')
  { status: nil }
rescue FedaPay::FedaPayError => e
  { status: e.http_status }
end
step('save_unchanged_empty_description') do
  # `description: ''` is sent as `description=` and stored as "" (create's description is not nullable). The
  # library refuses to set "" (it says to set nil) and sends nil as `description=`, which update (nullable) reads
  # as null: the description is empty either way, so no change, and a sent payout answers 200.
  made = FedaPay::Payout.create(body('+22997808087', 'ruby-empty').merge(description: ''))
  made.send_now
  sent = FedaPay::Payout.retrieve(made.id)
  sent.description = nil
  sent.save
  after = FedaPay::Payout.retrieve(made.id)
  { created: made.description, status: after.status, description: after.description }
end
puts JSON.generate(STEPS)
