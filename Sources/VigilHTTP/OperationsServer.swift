import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import VigilService

/// Why the operational HTTP endpoint could not listen.
public struct OperationsServerError: Error, CustomStringConvertible {
    public var address: String
    public var reason: String

    public var description: String { "cannot listen for HTTP on \(address): \(reason)" }
}

/// An HTTP/1.1 server on Hummingbird for routes that answer from memory (`/healthz`, `/readyz`, `/metrics`).
///
/// GET and HEAD reach the handler (HEAD without the body); other methods get 405 with `Allow: GET, HEAD`. The
/// handler receives the path without the query string. Bounds: request heads up to 8 KiB (larger: the connection is
/// refused by the decoder), a connection idle for 5 s is closed, at most 1,024 connections at once (more wait in the
/// listen backlog). Connections are served concurrently on SwiftNIO's event loops, so a slow client holds no other back.
///
/// Started with `start`, which returns once the socket listens (a taken port or a bad host is an error there, before
/// anything else starts); stopped with `stop` (graceful: answers in progress finish).
public final class OperationsServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    static let maxHeadBytes = 8 * 1024
    static let idleTimeout = TimeAmount.seconds(5)
    static let maxConnections = 1024

    private init(port: Int, group: ServiceGroup, task: Task<Void, Never>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Listens on host:port (port 0: the system picks one, `port` says which) and serves `handler`.
    public static func start(
        host: String, port: Int, logger: Logger, handler: @escaping @Sendable (_ path: String) -> VigilService.HTTPResponse
    ) async throws -> OperationsServer {
        guard (0...65_535).contains(port) else {
            throw OperationsServerError(address: "\(host):\(port)", reason: "invalid port \(port): must be 0...65535 (0 picks a free port)")
        }
        let bound = OneShot<Int>()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            Self.respond(to: request, handler)
        }
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)  // Hummingbird's per-request lines stay out of the log
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(
                idleTimeout: idleTimeout,
                httpDecoderConfiguration: .init(maxHeaderFieldSize: maxHeadBytes, maxHeaderListSize: maxHeadBytes))),
            configuration: .init(
                address: .hostname(host, port: port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(maxConnections)),
            onServerRunning: { channel in bound.set(.success(channel.localAddress?.port ?? port)) },
            logger: serverLogger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: serverLogger))
        let task = Task {
            do {
                try await group.run()
                bound.set(.failure(OperationsServerError(address: "\(host):\(port)", reason: "the server stopped before listening")))
            } catch {
                bound.set(.failure(OperationsServerError(address: "\(host):\(port)", reason: Self.reason(error))))
            }
        }
        do {
            let actualPort = try await bound.value()
            return OperationsServer(port: actualPort, group: group, task: task)
        } catch {
            await group.triggerGracefulShutdown()
            await task.value
            throw error
        }
    }

    /// Stops listening, lets answers in progress finish, and returns when the server has stopped. Idempotent.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    static func respond(to request: Request, _ handler: @Sendable (String) -> VigilService.HTTPResponse) -> Response {
        guard request.method == .get || request.method == .head else {
            return Response(
                status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "method not allowed: GET or HEAD\n")))
        }
        let answer = handler(request.uri.path)
        let response = Response(
            status: HTTPResponse.Status(code: answer.status), headers: [.contentType: answer.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        return request.method == .head ? response.createHeadResponse() : response
    }

    /// NIO's bind errors name the system call and errno; say what it means (for any Hummingbird server).
    public static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("EADDRINUSE") || text.contains("Address already in use") || text.contains("errno: 98") {
            return "the port is already in use"
        }
        if text.contains("EADDRNOTAVAIL") || text.contains("errno: 99") { return "the address is not one of this machine's (\(text))" }
        return text
    }
}

/// A value set once from any thread and awaited once.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, any Error>)
        case done(Result<Value, any Error>)
    }

    private let state = Mutex(State.empty)

    func set(_ result: Result<Value, any Error>) {
        let waiter: CheckedContinuation<Value, any Error>? = state.withLock { state in
            switch state {
            case .empty:
                state = .done(result)
                return nil
            case .waiting(let continuation):
                state = .done(result)
                return continuation
            case .done:
                return nil
            }
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Value, any Error>? = state.withLock { state in
                switch state {
                case .empty:
                    state = .waiting(continuation)
                    return nil
                case .done(let result):
                    return result
                case .waiting:
                    preconditionFailure("OneShot awaited twice")
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
