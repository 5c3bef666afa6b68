<?php
// Drives FedaPay's official PHP library (../shared/vendor/fedapay-php, loaded with init.php, no Composer)
// against the mock through its public Payout API. Usage: php check.php VENDOR_DIR http://127.0.0.1:PORT
// Prints one JSON line: {"step": {"ok": true, ...values the library handed back} | {"ok": false, "error": ...}}.
require $argv[1] . '/fedapay-php/init.php';

\FedaPay\FedaPay::setApiKey('sk_sandbox_php_library');
\FedaPay\FedaPay::setEnvironment('sandbox');
\FedaPay\FedaPay::setApiBase($argv[2]);

$steps = [];
function step($name, $fn)
{
    global $steps;
    try {
        $steps[$name] = array_merge(['ok' => true], $fn());
    } catch (\Throwable $e) {
        $status = method_exists($e, 'getHttpStatus') ? $e->getHttpStatus() : null;
        $steps[$name] = ['ok' => false, 'error' => get_class($e) . ': ' . $e->getMessage(), 'status' => $status];
    }
}

function body($number, $reference)
{
    return [
        'amount' => 2000,
        'currency' => ['iso' => 'XOF'],
        'mode' => 'mtn_open',
        'merchant_reference' => $reference,
        'description' => 'PHP library check',
        'customer' => [
            'firstname' => 'Ada', 'lastname' => 'Lovelace', 'email' => 'ada@example.com',
            'phone_number' => ['number' => $number, 'country' => 'bj'],
        ],
    ];
}

$p = [];
step('create', function () use (&$p) {
    $p[0] = \FedaPay\Payout::create(array_merge(body('+22997808080', 'php-ref-0'), ['include' => 'customer,currency']));
    for ($i = 1; $i <= 5; $i++) {
        $p[$i] = \FedaPay\Payout::create(body('+2299780808' . $i, 'php-ref-' . $i));
    }
    return [
        'ids' => array_map(function ($x) { return $x->id; }, $p),
        'class' => get_class($p[0]), 'status' => $p[0]->status, 'amount' => $p[0]->amount,
        'merchant_reference' => $p[0]->merchant_reference, 'description' => $p[0]->description,
        'customer_class' => get_class($p[0]->customer), 'customer_firstname' => $p[0]->customer->firstname,
        'currency_iso' => $p[0]->currency->iso,
    ];
});
step('retrieve', function () use (&$p) {
    $r = \FedaPay\Payout::retrieve($p[0]->id);
    return ['class' => get_class($r), 'id' => $r->id, 'amount' => $r->amount, 'status' => $r->status,
            'reference' => $r->reference, 'commission' => $r->commission];
});
step('all', function () {
    $list = \FedaPay\Payout::all(['per_page' => 2, 'page' => 1]);
    return ['ids' => array_map(function ($x) { return $x->id; }, $list->payouts),
            'item_class' => get_class($list->payouts[0]),
            'total_count' => $list->meta->total_count, 'next_page' => $list->meta->next_page];
});
step('search', function () use (&$p) {
    $found = \FedaPay\Payout::search('php-ref-1');
    $by_reference = \FedaPay\Payout::search($p[2]->reference);
    return ['ids' => array_map(function ($x) { return $x->id; }, $found->payouts),
            'by_reference' => array_map(function ($x) { return $x->id; }, $by_reference->payouts),
            'total_count' => $found->meta->total_count];
});
step('update', function () use (&$p) {
    $u = \FedaPay\Payout::update($p[1]->id, ['description' => 'Updated by PHP', 'amount' => 2500]);
    return ['class' => get_class($u), 'description' => $u->description, 'amount' => $u->amount,
            'amount_transferred' => $u->amount_transferred];
});
step('save_unchanged', function () use (&$p) {
    $before = \FedaPay\Payout::retrieve($p[2]->id);
    $updated_at = $before->updated_at;
    $before->save();
    $after = \FedaPay\Payout::retrieve($p[2]->id);
    return ['amount' => $after->amount, 'updated_at_kept' => $after->updated_at === $updated_at,
            'description' => $after->description, 'merchant_reference' => $after->merchant_reference];
});
step('save_changed', function () use (&$p) {
    $payout = \FedaPay\Payout::retrieve($p[2]->id);
    $payout->description = 'Saved by PHP';
    $payout->save();
    return ['returned' => $payout->description,
            'stored' => \FedaPay\Payout::retrieve($p[2]->id)->description];
});
step('send_now', function () use (&$p) {
    $p[0]->sendNow();
    return ['status' => $p[0]->status, 'started' => $p[0]->started_at !== null];
});
step('schedule', function () use (&$p) {
    $when = new \DateTime('2099-11-23 18:42:30', new \DateTimeZone('UTC'));
    $p[1]->schedule($when);
    return ['status' => $p[1]->status, 'scheduled_at' => $p[1]->scheduled_at];
});
step('schedule_all', function () use (&$p) {
    $out = \FedaPay\Payout::scheduleAll([['id' => $p[3]->id, 'scheduled_at' => '2099-01-01 10:00:00']]);
    return ['statuses' => array_map(function ($x) { return $x->status; }, $out->payouts),
            'scheduled_at' => $out->payouts[0]->scheduled_at];
});
step('send_all_now', function () use (&$p) {
    $out = \FedaPay\Payout::sendAllNow([['id' => $p[4]->id], ['id' => $p[2]->id]]);
    return ['ids' => array_map(function ($x) { return $x->id; }, $out->payouts),
            'statuses' => array_map(function ($x) { return $x->status; }, $out->payouts)];
});
step('delete', function () use (&$p) {
    $p[5]->delete();
    try {
        \FedaPay\Payout::retrieve($p[5]->id);
        $after = 'still there';
    } catch (\FedaPay\Error\Base $e) {
        $after = $e->getHttpStatus();
    }
    return ['retrieve_after' => $after];
});
step('create_in_batch', function () {
    $batch = \FedaPay\Payout::createInBatch(['payouts' => [body('+22997808089', 'php-batch')]]);
    return ['klass' => $batch->klass];
});
step('error_422', function () {
    try {
        \FedaPay\Payout::create(['amount' => 0, 'currency' => ['iso' => 'XOF'], 'mode' => 'mtn_open']);
        return ['status' => null];
    } catch (\FedaPay\Error\Base $e) {
        return ['status' => $e->getHttpStatus(), 'fields' => array_keys((array) $e->getErrors())];
    }
});
step('save_unchanged_empty_description', function () {
    // 'description' => null is sent as `description=`, stored as "" (create's description is not nullable);
    // save() sends `description=` back, which update (nullable) reads as null: no change, pending or sent.
    $made = \FedaPay\Payout::create(array_merge(body('+22997808087', 'php-empty'), ['description' => null]));
    \FedaPay\Payout::retrieve($made->id)->save();
    $pending = \FedaPay\Payout::retrieve($made->id)->description;
    $made->sendNow();
    \FedaPay\Payout::retrieve($made->id)->save();
    $after = \FedaPay\Payout::retrieve($made->id);
    return ['created' => $made->description, 'pending' => $pending, 'status' => $after->status,
            'sent' => $after->description];
});
echo json_encode($steps), "\n";
