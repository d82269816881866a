/// The console's page: HTML, one stylesheet and one plain script, all served by the console itself (nothing from
/// the network, so the Content-Security-Policy can forbid everything else). The script builds the DOM with
/// `textContent` only: no message field is ever parsed as HTML.
enum ConsolePage {
    static func login(error: String?) -> String {
        // `error` is one of the server's constant texts, never user input.
        let message = error.map { "<p class=\"error\" id=\"login-error\">\($0)</p>" } ?? ""
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Vigil console: log in</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="stylesheet" href="/console.css"></head>
        <body class="login"><main>
        <h1>Vigil <span>fraud console</span></h1>
        \(message)
        <form method="post" action="/login" id="login-form">
        <label>Analyst name <input name="name" id="name" autocomplete="username" required maxlength="64"></label>
        <label>Secret <input name="secret" id="secret" type="password" autocomplete="current-password" required></label>
        <button type="submit" id="login">Log in</button>
        </form></main></body></html>
        """
    }

    static let console = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Vigil console</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="stylesheet" href="/console.css"></head>
    <body>
    <header><h1>Vigil <span>fraud console</span></h1>
    <div class="who">Analyst <strong id="analyst"></strong> <button id="logout" type="button">Log out</button></div></header>
    <div id="banner" class="banner" hidden></div>
    <section class="filters">
    <label><input type="checkbox" id="f-block" checked> block</label>
    <label><input type="checkbox" id="f-review" checked> review</label>
    <label>minimum score <input type="number" id="f-score" min="0" max="1" step="0.05" value="0"></label>
    <label>show <select id="f-state"><option value="open">open</option><option value="all" selected>all</option><option value="worked">worked</option></select></label>
    <span id="counts"></span>
    </section>
    <main id="queue"></main>
    <p id="empty" class="empty" hidden>No alerts match.</p>
    <script src="/console.js"></script>
    </body></html>
    """

    static let style = """
    * { box-sizing: border-box; }
    body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111827; }
    header { display: flex; justify-content: space-between; align-items: center; padding: 10px 20px; background: #111827; color: #f9fafb; }
    h1 { font-size: 18px; margin: 0; } h1 span { font-weight: normal; color: #9ca3af; }
    .who button { margin-left: 8px; }
    .banner { background: #b91c1c; color: white; padding: 8px 20px; font-weight: 600; }
    .filters { display: flex; gap: 18px; align-items: center; padding: 10px 20px; background: white; border-bottom: 1px solid #e5e7eb; }
    .filters input[type=number] { width: 70px; }
    #counts { margin-left: auto; color: #4b5563; }
    main { padding: 12px 20px; display: grid; gap: 10px; }
    article { background: white; border: 1px solid #e5e7eb; border-left: 6px solid #f59e0b; border-radius: 6px; padding: 10px 14px; }
    article.block { border-left-color: #dc2626; }
    article.worked { opacity: 0.75; }
    .top { display: flex; gap: 14px; align-items: baseline; flex-wrap: wrap; }
    .verdict { text-transform: uppercase; font-weight: 700; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #fef3c7; color: #92400e; }
    .block .verdict { background: #fee2e2; color: #991b1b; }
    .score { font-weight: 700; font-size: 16px; }
    .card { font-family: ui-monospace, monospace; }
    .muted { color: #6b7280; font-size: 12px; }
    .reasons { margin: 6px 0; display: flex; gap: 8px; flex-wrap: wrap; }
    .reason { background: #eef2ff; color: #3730a3; border-radius: 4px; padding: 1px 6px; font-family: ui-monospace, monospace; font-size: 12px; }
    .cols { display: grid; grid-template-columns: 1fr 1.4fr; gap: 14px; }
    table { border-collapse: collapse; width: 100%; font-size: 12px; }
    td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid #f3f4f6; }
    th { color: #6b7280; font-weight: 600; }
    td.num { text-align: right; font-family: ui-monospace, monospace; }
    tr.this { background: #fef9c3; }
    .actions { margin-top: 8px; display: flex; gap: 10px; align-items: center; }
    .actions button { padding: 5px 14px; border-radius: 4px; border: 1px solid #9ca3af; background: white; cursor: pointer; font-weight: 600; }
    .actions button.label-fraud { border-color: #dc2626; color: #b91c1c; }
    .actions button.label-legit { border-color: #059669; color: #047857; }
    .actions button:disabled { opacity: 0.4; cursor: default; }
    .worked-by { font-weight: 600; } .worked-by.fraud { color: #b91c1c; } .worked-by.legit { color: #047857; }
    .error { color: #b91c1c; }
    .empty { padding: 20px; color: #6b7280; }
    body.login main { max-width: 360px; margin: 80px auto; background: white; padding: 24px; border-radius: 8px; border: 1px solid #e5e7eb; display: block; }
    body.login h1 { color: #111827; margin-bottom: 16px; }
    body.login label { display: block; margin-bottom: 12px; } body.login input { display: block; width: 100%; padding: 6px; }
    """

    static let script = #"""
    "use strict";
    (function () {
      const state = { csrf: "", pending: {}, messages: {}, open: {}, timer: null };
      const $ = (id) => document.getElementById(id);

      function el(tag, cls, text) {
        const node = document.createElement(tag);
        if (cls) node.className = cls;
        if (text !== undefined && text !== null) node.textContent = String(text);
        return node;
      }
      function time(ms) { return ms == null ? "" : new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z"; }
      function num(x, digits) { return x == null ? "" : Number(x).toFixed(digits); }
      function clickId() {
        const bytes = new Uint8Array(16);
        crypto.getRandomValues(bytes);
        return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      }
      function query() {
        const verdicts = [];
        if ($("f-block").checked) verdicts.push("block");
        if ($("f-review").checked) verdicts.push("review");
        const score = parseFloat($("f-score").value) || 0;
        return "verdict=" + (verdicts.length ? verdicts.join(",") : "none") + "&min_score=" + score + "&state=" + $("f-state").value;
      }

      async function refresh() {
        try {
          const response = await fetch("/api/queue?" + query(), { credentials: "same-origin", cache: "no-store" });
          if (response.status === 401) { location.reload(); return; }
          const view = await response.json();
          state.csrf = view.csrf;
          $("analyst").textContent = view.analyst;
          banner(view.kafka, null);
          $("counts").textContent = view.queued + " alerts in the queue, " + view.worked + " worked";
          render(view.alerts);
        } catch (e) {
          banner(null, "The console does not answer (" + e.message + "); showing the last queue it sent.");
        }
      }

      function banner(kafka, problem) {
        const node = $("banner");
        let text = problem;
        if (!text && kafka && !kafka.reachable) {
          text = "Kafka is unreachable since " + time(kafka.since_ms) + ": showing what the console has; new alerts wait, labels wait for Kafka.";
        }
        if (!text && kafka && kafka.labels_waiting > 0) text = kafka.labels_waiting + " label(s) waiting for Kafka's acknowledgement.";
        node.hidden = !text;
        node.textContent = text || "";
      }

      // Re-rendered only when something shown changed: replacing the queue every second would drop a click whose
      // press and release straddle a refresh, and the analyst's text selection.
      function render(alerts) {
        const shown = JSON.stringify([alerts, state.pending, state.messages]);
        if (shown === state.shown) return;
        state.shown = shown;
        document.querySelectorAll("details[data-tx]").forEach((d) => { state.open[d.dataset.tx] = d.open; });
        const queue = $("queue");
        const fragment = document.createDocumentFragment();
        for (const alert of alerts) fragment.appendChild(card(alert));
        queue.replaceChildren(fragment);
        $("empty").hidden = alerts.length > 0;
      }

      function card(a) {
        const article = el("article", a.verdict + (a.label ? " worked" : ""));
        article.dataset.tx = a.transaction_id;
        const top = el("div", "top");
        top.append(el("span", "verdict", a.verdict), el("span", "score", num(a.score, 3)), el("span", "card", a.card_id),
          el("span", "muted", "transaction " + a.transaction_id), el("span", "muted", "paid " + time(a.event_time_ms)),
          el("span", "muted", "decided " + time(a.decided_at_ms)), el("span", "muted", "model " + a.model_version));
        article.appendChild(top);

        const reasons = el("div", "reasons");
        reasons.appendChild(el("span", "muted", "because"));
        for (const r of a.reasons) reasons.appendChild(el("span", "reason", r.feature + " +" + num(r.contribution, 2)));
        article.appendChild(reasons);

        const cols = el("div", "cols");
        const features = el("details");
        features.dataset.tx = a.transaction_id;
        features.open = state.open[a.transaction_id] !== false;
        features.appendChild(el("summary", null, "features scored"));
        if (a.features) {
          const table = el("table", "features");
          const names = Object.keys(a.features).sort();
          const why = new Set(a.reasons.map((r) => r.feature));
          for (const name of names) {
            if (!why.has(name) && a.features[name] === 0) continue;
            const row = el("tr");
            row.append(el("td", null, name), el("td", "num", num(a.features[name], 3)));
            table.appendChild(row);
          }
          features.appendChild(table);
          features.appendChild(el("div", "muted", "(features that are 0 and not a reason are left out)"));
        } else {
          features.appendChild(el("div", "muted", "no feature record yet"));
        }
        cols.appendChild(features);

        const recent = el("div");
        recent.appendChild(el("div", "muted", "the card's recent transactions"));
        const table = el("table", "recent");
        const head = el("tr");
        for (const h of ["time", "amount", "merchant", "verdict", "score"]) head.appendChild(el("th", null, h));
        table.appendChild(head);
        for (const t of a.recent) {
          const row = el("tr", t.transaction_id === a.transaction_id ? "this" : null);
          row.append(el("td", null, time(t.event_time_ms)), el("td", "num", num(t.amount, 2)), el("td", null, t.merchant_id || ""),
            el("td", null, t.verdict), el("td", "num", num(t.score, 3)));
          table.appendChild(row);
        }
        recent.appendChild(table);
        cols.appendChild(recent);
        article.appendChild(cols);

        const actions = el("div", "actions");
        if (a.label) {
          const who = a.label.reported_by ? " by " + a.label.reported_by : (a.label.source ? " by " + a.label.source : "");
          actions.appendChild(el("span", "worked-by " + (a.label.is_fraud ? "fraud" : "legit"),
            "Labelled " + (a.label.is_fraud ? "fraud" : "legitimate") + who + (a.label.reported_at_ms ? " at " + time(a.label.reported_at_ms) : "")));
        } else {
          const busy = !!state.pending[a.transaction_id];
          const fraud = el("button", "label-fraud", "Fraud");
          const legit = el("button", "label-legit", "Legitimate");
          fraud.type = legit.type = "button";
          fraud.disabled = legit.disabled = busy;
          fraud.addEventListener("click", () => label(a.transaction_id, true));
          legit.addEventListener("click", () => label(a.transaction_id, false));
          actions.append(fraud, legit);
        }
        const message = state.messages[a.transaction_id];
        if (message) actions.appendChild(el("span", message.error ? "error" : "muted", message.text));
        article.appendChild(actions);
        return article;
      }

      // One click, one label: the click id is made once and every retry of this click sends the same one.
      async function label(tx, isFraud) {
        if (state.pending[tx]) return;
        const click = { click_id: clickId(), transaction_id: tx, is_fraud: isFraud };
        state.pending[tx] = click;
        state.messages[tx] = { text: "sending…" };
        refresh();
        for (let attempt = 1; attempt <= 20; attempt++) {
          let response = null;
          try {
            response = await fetch("/api/labels", {
              method: "POST", credentials: "same-origin", cache: "no-store",
              headers: { "Content-Type": "application/json", "X-Vigil-CSRF": state.csrf }, body: JSON.stringify(click),
            });
          } catch (e) {
            state.messages[tx] = { text: "network error, retrying the same click (" + attempt + ")", error: true };
            refresh();
            await new Promise((r) => setTimeout(r, 1000));
            continue;
          }
          const answer = await response.json().catch(() => ({}));
          if (response.status === 504) {
            state.messages[tx] = { text: "Kafka has not answered; the label waits and is retried (" + attempt + ")", error: true };
            refresh();
            continue;
          }
          if (response.ok) state.messages[tx] = null;
          else if (response.status === 409) state.messages[tx] = { text: answer.error || "already labelled", error: true };
          else state.messages[tx] = { text: answer.error || ("error " + response.status), error: true };
          break;
        }
        delete state.pending[tx];
        refresh();
      }

      async function logout() {
        await fetch("/logout", { method: "POST", credentials: "same-origin", headers: { "X-Vigil-CSRF": state.csrf } }).catch(() => {});
        location.reload();
      }

      for (const id of ["f-block", "f-review", "f-score", "f-state"]) $(id).addEventListener("change", refresh);
      $("logout").addEventListener("click", logout);
      refresh();
      state.timer = setInterval(refresh, 1000);
    })();
    """#
}
