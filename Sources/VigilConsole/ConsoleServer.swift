import Foundation
import Hummingbird
import Logging

/// The console's HTTP side: the login, the page, the queue as JSON and the label POST. Thin: every decision is
/// made by the desk's plain values (`SessionBook`, `ClickLedger`, `AlertQueue`).
public struct ConsoleServer: Sendable {
    public let desk: ConsoleDesk
    public let publisher: LabelPublisher
    public let credentials: AnalystCredentials
    /// How long a label POST waits for Kafka's acknowledgement before answering 504 (the label stays in flight).
    public let labelTimeoutMs: Int64
    public let logger: Logger

    static let sessionCookie = "vigil_console_session"

    public init(desk: ConsoleDesk, publisher: LabelPublisher, credentials: AnalystCredentials, labelTimeoutMs: Int64, logger: Logger) {
        self.desk = desk
        self.publisher = publisher
        self.credentials = credentials
        self.labelTimeoutMs = labelTimeoutMs
        self.logger = logger
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { request, _ in
            session(of: request) == nil ? page(ConsolePage.login(error: nil)) : page(ConsolePage.console)
        }
        router.get("/console.js") { _, _ in asset(ConsolePage.script, type: "text/javascript; charset=utf-8") }
        router.get("/console.css") { _, _ in asset(ConsolePage.style, type: "text/css; charset=utf-8") }
        router.get("/healthz") { _, _ in asset("ok\n", type: "text/plain; charset=utf-8") }
        router.post("/login") { request, context in try await login(request, context) }
        router.post("/logout") { request, _ in logout(request) }
        router.get("/api/queue") { request, _ in queue(request) }
        router.post("/api/labels") { request, context in try await label(request, context) }
        return router
    }

    // MARK: Login

    struct LoginForm: Decodable {
        var name: String
        var secret: String
    }

    func login(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard sameOrigin(request) else { return json(.forbidden, ["error": "cross-origin request refused"]) }
        let body = try await request.body.collect(upTo: 8192)
        let form = try? URLEncodedFormDecoder().decode(LoginForm.self, from: String(buffer: body))
        guard let form, let analyst = credentials.authenticate(name: form.name, secret: form.secret) else {
            // A fixed pause makes guessing slow; the attempt is logged without what was typed.
            try await Task.sleep(for: .milliseconds(400))
            logger.notice("console login refused")
            return page(ConsolePage.login(error: "Wrong name or secret."), status: .unauthorized)
        }
        let id = SessionBook.newToken()
        let csrf = SessionBook.newToken()
        desk.sessions.withLock { $0.open(id: id, analyst: analyst, csrfToken: csrf, nowMs: ConsoleClock.nowMs()) }
        logger.info("analyst logged in", metadata: ["analyst": "\(analyst)"])
        var response = Response(status: .seeOther, headers: [.location: "/"])
        response.setCookie(Cookie(name: Self.sessionCookie, value: id, path: "/", httpOnly: true, sameSite: .strict))
        secure(&response)
        return response
    }

    func logout(_ request: Request) -> Response {
        guard sameOrigin(request), let session = session(of: request),
              SessionBook.csrfMatches(session, header: request.headers[.init("X-Vigil-CSRF")!])
        else { return json(.forbidden, ["error": "not logged in, or no CSRF token"]) }
        desk.sessions.withLock { $0.close(id: request.cookies[Self.sessionCookie]?.value) }
        var response = json(.ok, ["ok": true])
        response.setCookie(Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    func session(of request: Request) -> SessionBook.Session? {
        let id = request.cookies[Self.sessionCookie]?.value
        return desk.sessions.withLock { $0.check(id: id, nowMs: ConsoleClock.nowMs()) }
    }

    /// A browser's POST from another site carries its Origin; refuse it unless it is this host.
    func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let authority = request.head.authority else { return false }
        return origin == "http://\(authority)" || origin == "https://\(authority)"
    }

    // MARK: Queue

    func queue(_ request: Request) -> Response {
        guard let session = session(of: request) else { return json(.unauthorized, ["error": "log in first"]) }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let view = QueueView.make(desk: desk, filter: QueueFilter(query: query), session: session)
        return encoded(.ok, view)
    }

    // MARK: Labels

    struct LabelRequest: Decodable {
        var click_id: String
        var transaction_id: String
        var is_fraud: Bool
    }

    func label(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let session = session(of: request) else { return json(.unauthorized, ["error": "log in first"]) }
        guard sameOrigin(request), SessionBook.csrfMatches(session, header: request.headers[.init("X-Vigil-CSRF")!]) else {
            return json(.forbidden, ["error": "missing or wrong CSRF token: reload the page"])
        }
        let body = try await request.body.collect(upTo: 4096)
        guard let asked = try? JSONDecoder().decode(LabelRequest.self, from: Data(buffer: body)),
              (8...64).contains(asked.click_id.utf8.count), (1...64).contains(asked.transaction_id.utf8.count)
        else { return json(.badRequest, ["error": "expected {click_id (8-64 bytes), transaction_id, is_fraud}"]) }
        guard desk.queue.withLock({ $0.entry(of: asked.transaction_id) }) != nil else {
            return json(.notFound, ["error": "no such alert in the queue"])
        }
        let click = ClickLedger.Click(
            clickId: asked.click_id, transactionId: asked.transaction_id, isFraud: asked.is_fraud, analyst: session.analyst)
        switch desk.click(click, nowMs: ConsoleClock.nowMs()) {
        case .produce(let label):
            publisher.submit(label)
            return await outcome(of: click)
        case .wait:
            return await outcome(of: click)
        case .alreadyDelivered(let label):
            return encoded(.ok, LabelAnswer(label: label.worked, message: "labelled"))
        case .refuse(let existing):
            return encoded(.conflict, LabelAnswer(label: existing, message: "already labelled"))
        case .refuseInFlight(let analyst):
            return json(.conflict, ["error": "\(analyst) is labelling this alert right now"])
        case .mismatch:
            return json(.unprocessableContent, ["error": "this click id was used for another label"])
        }
    }

    /// Waits (bounded) for the click's delivery report.
    func outcome(of click: ClickLedger.Click) async -> Response {
        let deadline = ConsoleClock.nowMs() + labelTimeoutMs
        while true {
            switch desk.state(of: click.clickId) {
            case .delivered(let label)?:
                return encoded(.ok, LabelAnswer(label: label.worked, message: "labelled"))
            case .failed(_, let reason)?:
                return json(.badGateway, ["error": "the label was not written to Kafka: \(reason). Try again."])
            case .uncertain?:
                return json(.gatewayTimeout, [
                    "error": "Kafka did not confirm the label in time and may have it: the console waits to read it back from "
                        + "fraud.labels (the alert then shows as worked); retrying this click never labels twice."
                ])
            case .inFlight?, nil:
                if ConsoleClock.nowMs() >= deadline {
                    return json(.gatewayTimeout, [
                        "error": "Kafka has not acknowledged the label within \(labelTimeoutMs / 1000) s. It stays queued and is "
                            + "written once Kafka answers (the alert then shows as worked); retrying this click never labels twice."
                    ])
                }
                try? await Task.sleep(for: .milliseconds(25))
            }
        }
    }

    struct LabelAnswer: Encodable {
        var label: WorkedLabel
        var message: String
    }

    // MARK: Responses

    func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        asset(html, type: "text/html; charset=utf-8", status: status)
    }

    func asset(_ text: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(
            status: status, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        secure(&response)
        return response
    }

    func json(_ status: HTTPResponse.Status, _ object: [String: any Sendable]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return jsonResponse(status, data)
    }

    func encoded(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return jsonResponse(status, (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    func jsonResponse(_ status: HTTPResponse.Status, _ data: Data) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        secure(&response)
        return response
    }

    /// Nothing from elsewhere: no script, style or frame that is not this server's own.
    func secure(_ response: inout Response) {
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the login form, which sameOrigin refuses.
        response.headers[.init("Referrer-Policy")!] = "same-origin"
        response.headers[.cacheControl] = "no-store"
        response.headers[.init("X-Frame-Options")!] = "DENY"
    }
}
