-- wrk script: POST /payouts with a valid JSON body and a sandbox key.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk_sandbox_benchmark"
wrk.body = '{"amount":1000,"currency":{"iso":"XOF"},"mode":"mtn_open","customer":{"firstname":"Ada","lastname":"Lovelace","email":"ada@example.com","phone_number":{"number":"+22997808080","country":"bj"}}}'
