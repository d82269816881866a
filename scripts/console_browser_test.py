#!/usr/bin/env python3
"""Browser test of `vigil console` (driven by scripts/console-test.sh).

Real processes, loopback only: `vigil console sandbox` hosts librdkafka's mock cluster and produces contract-shaped
alerts, feature records and transactions; the real `vigil console` binary serves the page; headless Chromium (Debian's
`chromium` and `chromium-driver`, through Selenium) logs in, sees alerts appear, filters, labels one, labels another
through a Kafka outage. Then the labels on fraud.labels are checked (exactly one per click, schema 2) and read by
`vigil train` and `vigil merchant-risk`, and a restarted console still shows the alerts as worked.
"""
import json, os, re, subprocess, sys, tempfile, time, urllib.request, urllib.error

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

VIGIL = os.environ.get("VIGIL", ".build/debug/vigil")
IMAGES = os.environ.get("CONSOLE_IMAGES", "docs/images")
TOKEN = "analyst-team-token-" + os.urandom(8).hex()
work = tempfile.mkdtemp(prefix="vigil-console-test-")
processes = []
failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        failures.append(what)


def wait(what, condition, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out waiting until " + what)


class Sandbox:
    def __init__(self):
        self.process = subprocess.Popen([VIGIL, "console", "sandbox"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=open(os.path.join(work, "sandbox.log"), "w"), text=True, bufsize=1)
        processes.append(self.process)
        first = self.process.stdout.readline().split()
        assert first[0] == "brokers", first
        self.brokers = first[1]

    def command(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answers = []
        while True:
            answer = self.process.stdout.readline().rstrip("\n")
            if answer == "ok":
                return answers
            if not answer or answer.startswith("error"):
                raise AssertionError("sandbox: %r -> %r" % (line, answer))
            answers.append(answer)

    def alerts(self, n):
        return [tuple(a.split()[1:3]) for a in self.command("alerts %d" % n)]


def start_console(brokers):
    token_file = os.path.join(work, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    log = open(os.path.join(work, "console.log"), "a")
    process = subprocess.Popen(
        [VIGIL, "console", "--brokers", brokers, "--port", "0", "--token-file", token_file, "--label-timeout-ms", "3000"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    processes.append(process)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, "console did not say where it listens: %r" % line
    return process, "http://127.0.0.1:%s" % match.group(1)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def post_json(url, body, cookie=None, csrf=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if cookie:
        request.add_header("Cookie", cookie)
    if csrf:
        request.add_header("X-Vigil-CSRF", csrf)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fresh(fn, tries=20):
    """fn() again while the page re-renders under it (the queue is rebuilt when what it shows changes)."""
    for attempt in range(tries):
        try:
            return fn()
        except StaleElementReferenceException:
            if attempt == tries - 1:
                raise
            time.sleep(0.1)


def articles(driver):
    return fresh(lambda: [a.get_attribute("data-tx") for a in driver.find_elements(By.CSS_SELECTOR, "#queue article")])


def click(driver, tx, css):
    fresh(lambda: article(driver, tx).find_element(By.CSS_SELECTOR, css).click())


def article(driver, tx):
    return driver.find_element(By.CSS_SELECTOR, '#queue article[data-tx="%s"]' % tx)


def main():
    started = time.time()
    sandbox = Sandbox()
    sandbox.command("history 200")
    first = sandbox.alerts(3)
    console, url = start_console(sandbox.brokers)
    print("sandbox at %s, console at %s, files in %s" % (sandbox.brokers, url, work), flush=True)

    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions", "--disable-default-apps", "--metrics-recording-only"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(url + "/")
        check(driver.find_elements(By.ID, "login-form") != [], "without a session the console shows the login")
        driver.find_element(By.ID, "name").send_keys("ana")
        driver.find_element(By.ID, "secret").send_keys("wrong-secret-wrong-secret")
        driver.find_element(By.ID, "login").click()
        check(wait("the login error", lambda: driver.find_element(By.ID, "login-error").text) == "Wrong name or secret.",
              "a wrong secret is refused")
        driver.find_element(By.ID, "name").clear()
        driver.find_element(By.ID, "name").send_keys("ana")
        driver.find_element(By.ID, "secret").send_keys(TOKEN)
        driver.find_element(By.ID, "login").click()
        wait("the queue", lambda: len(articles(driver)) == 3)
        check(driver.find_element(By.ID, "analyst").text == "ana", "logged in as ana")
        cookie = driver.get_cookie("vigil_console_session")
        check(cookie["httpOnly"] and cookie.get("sameSite") == "Strict", "the session cookie is HttpOnly and SameSite=Strict")

        # A new alert appears, on top.
        new_tx, new_card = sandbox.alerts(1)[0]
        wait("the new alert on top", lambda: articles(driver)[0] == new_tx)
        check(len(articles(driver)) == 4, "the new alert appears without a reload, newest first")
        top, text = fresh(lambda: (lambda a: (a, a.text))(article(driver, new_tx)))
        check(new_card in text and "because" in text and "count_1m" in text, "it shows the card token and the reasons")
        rows = fresh(lambda: (lambda a: (len(a.find_elements(By.CSS_SELECTOR, "table.features tr")),
                                          len(a.find_elements(By.CSS_SELECTOR, "table.recent tr"))))(article(driver, new_tx)))
        check(rows[0] >= 5, "it shows the features scored")
        check(rows[1] == 6, "it shows the card's 5 recent transactions")
        check(re.search(r"\b\d{12,19}\b", driver.find_element(By.ID, "queue").text) is None, "no card-number-like digits anywhere")

        # Filters: verdict and minimum score.
        verdicts = fresh(lambda: {tx: article(driver, tx).get_attribute("class").split()[0] for tx in articles(driver)})
        driver.find_element(By.ID, "f-review").click()
        wait("only blocks", lambda: set(articles(driver)) == {t for t, v in verdicts.items() if v == "block"})
        check(True, "the verdict filter shows only blocks (%d)" % len([v for v in verdicts.values() if v == "block"]))
        driver.find_element(By.ID, "f-review").click()
        score = driver.find_element(By.ID, "f-score")
        score.clear()
        score.send_keys("0.9")
        driver.execute_script("document.getElementById('f-score').dispatchEvent(new Event('change'))")
        def scores():
            return fresh(lambda: [float(a.find_element(By.CSS_SELECTOR, ".score").text) for a in driver.find_elements(By.CSS_SELECTOR, "#queue article")])
        wait("scores >= 0.9", lambda: all(s >= 0.9 for s in scores()) and len(articles(driver)) < 4 or len(articles(driver)) == len([v for v in verdicts.values() if v == "block"]))
        check(all(s >= 0.9 for s in scores()), "the minimum-score filter applies")
        score.clear()
        score.send_keys("0")
        driver.execute_script("document.getElementById('f-score').dispatchEvent(new Event('change'))")
        wait("all alerts again", lambda: len(articles(driver)) == 4)
        driver.save_screenshot(os.path.join(IMAGES, "console-queue.png"))

        # Label the new alert "fraud" with a click.
        click(driver, new_tx, "button.label-fraud")
        worked = wait("the worked line", lambda: article(driver, new_tx).find_element(By.CSS_SELECTOR, ".worked-by").text)
        check(worked.startswith("Labelled fraud by ana"), "the clicked alert shows as worked: " + worked)
        check(fresh(lambda: article(driver, new_tx).find_elements(By.CSS_SELECTOR, "button.label-fraud")) == [], "its buttons are gone")

        # The HTTP contract behind the buttons: a retried click labels once, another click is refused, no CSRF no label.
        session = "vigil_console_session=" + cookie["value"]
        csrf = driver.execute_script("return fetch('/api/queue').then(r => r.json()).then(v => v.csrf)")
        api_tx = first[0][0]
        body = {"click_id": "retried-click-0001", "transaction_id": api_tx, "is_fraud": False}
        check(post_json(url + "/api/labels", body, session)[0] == 403, "a POST without the CSRF token is refused")
        answers = [post_json(url + "/api/labels", body, session, csrf) for _ in range(3)]
        check([a[0] for a in answers] == [200, 200, 200], "one click retried three times: success each time")
        other = post_json(url + "/api/labels", dict(body, click_id="another-click-0002", is_fraud=True), session, csrf)
        check(other[0] == 409 and other[1]["label"]["reported_by"] == "ana", "another click on a labelled alert is refused (409, shows who)")

        # Kafka blips: the page keeps the queue, shows a banner, and a click waits for Kafka instead of being lost.
        blip_tx = first[1][0]
        sandbox.command("down")
        banner = wait("the banner", lambda: driver.find_element(By.ID, "banner").is_displayed() and driver.find_element(By.ID, "banner").text)
        check("Kafka is unreachable" in banner, "a banner says Kafka is unreachable")
        check(len(articles(driver)) == 4, "the queue is still shown")
        click(driver, blip_tx, "button.label-legit")
        waiting = wait("the waiting message", lambda: "Kafka has not answered" in article(driver, blip_tx).text, timeout=15)
        check(waiting, "the click says it waits for Kafka")
        driver.save_screenshot(os.path.join(work, "console-outage.png"))
        sandbox.command("up")
        worked = wait("the label after the outage",
                      lambda: article(driver, blip_tx).find_element(By.CSS_SELECTOR, ".worked-by").text, timeout=60)
        check(worked.startswith("Labelled legitimate by ana"), "after the outage the label is written: " + worked)
        wait("the banner gone", lambda: not driver.find_element(By.ID, "banner").is_displayed(), timeout=20)
        driver.find_element(By.ID, "f-state").find_element(By.CSS_SELECTOR, "option[value=all]").click()
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(1.2)
        driver.save_screenshot(os.path.join(IMAGES, "console-labelled.png"))

        # fraud.labels: exactly one label per click, schema 2.
        labels = [json.loads(l[len("label "):]) for l in sandbox.command("labels")]
        console_labels = [l for l in labels if l.get("source") == "console"]
        by_tx = {}
        for l in console_labels:
            by_tx.setdefault(l["transaction_id"], []).append(l)
        check(sorted(by_tx) == sorted([new_tx, api_tx, blip_tx]) and all(len(v) == 1 for v in by_tx.values()),
              "exactly one label per click on fraud.labels (%d console labels, %d from the chargeback history)"
              % (len(console_labels), len(labels) - len(console_labels)))
        now = time.time() * 1000
        check(all(l["schema_version"] == 2 and l["reported_by"] == "ana" and started * 1000 <= l["reported_at_ms"] <= now
                  for l in console_labels), "each is schema version 2 with reported_by and reported_at_ms")
        check(by_tx[new_tx][0]["is_fraud"] is True and by_tx[blip_tx][0]["is_fraud"] is False, "with the verdict clicked")

        # The next training and merchant-risk runs read them.
        train = subprocess.run([VIGIL, "train", "--brokers", sandbox.brokers, "--output-dir", work, "--promote-to",
                                os.path.join(work, "active.json")],
                               capture_output=True, text=True, timeout=300)
        line = next((l for l in train.stdout.splitlines() + train.stderr.splitlines() if "joined" in l), "")
        print("      vigil train: " + line.strip(), flush=True)
        match = re.search(r"(\d+) records, (\d+) bad, (\d+) joined", line)
        check(match and match.group(2) == "0" and int(match.group(3)) == int(match.group(1)) == len(labels),
              "vigil train reads every label, schema 1 and 2, none bad, all joined")
        risk = subprocess.run([VIGIL, "merchant-risk", "--brokers", sandbox.brokers, "--label-delay-days", "0",
                               "--out", os.path.join(work, "merchant-risk.jsonl")], capture_output=True, text=True, timeout=300)
        use = next((l for l in risk.stdout.splitlines() if "label use" in l), "")
        print("      vigil merchant-risk: " + use.strip(), flush=True)
        fraud_total = len([l for l in labels if l["is_fraud"]])
        check(("%d labelled transactions" % len(labels)) in use and (", %d fraud;" % fraud_total) in use,
              "vigil merchant-risk uses every label")

        # A restarted console still knows which alerts are worked (it reads fraud.labels back).
        stop(console)
        console, url2 = start_console(sandbox.brokers)
        driver.get(url2 + "/")
        check(driver.find_elements(By.ID, "login-form") != [], "sessions end with the process: log in again")
        driver.find_element(By.ID, "name").send_keys("bo")
        driver.find_element(By.ID, "secret").send_keys(TOKEN)
        driver.find_element(By.ID, "login").click()
        wait("the queue after a restart", lambda: len(articles(driver)) == 4)
        worked = wait("worked after restart", lambda: article(driver, new_tx).find_element(By.CSS_SELECTOR, ".worked-by").text)
        check(worked.startswith("Labelled fraud by ana"), "after a restart the alert is still worked by ana")
    finally:
        driver.quit()
        stop(console)
        sandbox.process.stdin.close()
        stop(sandbox.process)
    print("%s in %.1f s (logs and the outage screenshot in %s)" % ("FAILED" if failures else "passed", time.time() - started, work))
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        code = main()
    except Exception as error:
        print("FAIL  " + repr(error), flush=True)
        for p in processes:
            if p.poll() is None:
                p.kill()
        code = 1
    sys.exit(code)
