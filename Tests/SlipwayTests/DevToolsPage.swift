import Foundation
import HummingbirdWSClient
import Logging
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// Headless chromium driven over the DevTools protocol (a WebSocket): navigate, evaluate, screenshot. For the
/// dashboard checks `--dump-dom` cannot make: a page that changes without a reload.
struct DevToolsBrowser {
    let process: Process
    let port: Int
    let profile: String

    static func launch() async throws -> DevToolsBrowser {
        let browser = try #require(DashboardBrowserTests.chromium(), "chromium is not installed (scripts/test.sh installs it)")
        let port = try PortAllocator.freePort()
        let profile = NSTemporaryDirectory() + "devtools-\(UUID().uuidString.prefix(8))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: browser)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=\(profile)",
                       "--remote-debugging-port=\(port)", "--remote-allow-origins=*", "--window-size=1100,900", "about:blank"]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let b = DevToolsBrowser(process: p, port: port, profile: profile)
        _ = try await poll(within: .seconds(20)) { try? await b.pageSocket() }
        return b
    }

    /// The first page target's WebSocket URL.
    func pageSocket() async throws -> String? {
        let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/json/list", timeout: .seconds(2))
        let targets = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        return targets.first { $0["type"] as? String == "page" }?["webSocketDebuggerUrl"] as? String
    }

    func close() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Runs `body` with a session on the page.
    func withPage(_ body: @escaping @Sendable (DevToolsSession) async throws -> Void) async throws {
        let url = try #require(try await pageSocket())
        try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 32 << 20), logger: Logger(label: "devtools", factory: { _ in SwiftLogNoOpLogHandler() })) { inbound, outbound, _ in
            let session = DevToolsSession(outbound: outbound, inbound: inbound.messages(maxSize: 64 << 20).makeAsyncIterator())
            try await body(session)
        }
    }
}

/// One DevTools connection: commands answered in order (events in between are skipped).
final class DevToolsSession: @unchecked Sendable {
    let outbound: WebSocketOutboundWriter
    var inbound: WebSocketInboundMessageStream.AsyncIterator
    var nextId = 0

    init(outbound: WebSocketOutboundWriter, inbound: WebSocketInboundMessageStream.AsyncIterator) {
        self.outbound = outbound
        self.inbound = inbound
    }

    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
        nextId += 1
        let id = nextId
        let text = String(decoding: try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params]), as: UTF8.self)
        try await outbound.write(.text(text))
        while let message = try await inbound.next() {
            guard case .text(let reply) = message, let json = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any],
                  json["id"] as? Int == id else { continue }
            if let error = json["error"] { throw DevToolsError(description: "\(method): \(error)") }
            return json["result"] as? [String: Any] ?? [:]
        }
        throw DevToolsError(description: "the browser closed the connection during \(method)")
    }

    /// Navigates and waits for the new document to finish loading: the old one is marked first, so a "complete"
    /// read from it (or from a form's navigation still arriving) is never taken for the new page.
    func open(_ url: String) async throws {
        _ = try? await evaluate("window.slipwayOldDocument = true")
        try await call("Page.navigate", ["url": url])
        _ = try await poll(within: .seconds(15)) { [self] in
            (try? await evaluate("(window.slipwayOldDocument ? 'old' : document.readyState) + ' ' + location.href"))
                .flatMap { $0.hasPrefix("complete ") && !$0.hasSuffix("about:blank") ? true : nil }
        }
    }

    /// A JavaScript expression's value as text.
    func evaluate(_ expression: String) async throws -> String {
        let r = try await call("Runtime.evaluate", ["expression": "String(\(expression))", "returnByValue": true])
        return ((r["result"] as? [String: Any])?["value"] as? String) ?? ""
    }

    func screenshot(to path: String) async throws {
        let r = try await call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        let data = try #require(Data(base64Encoded: r["data"] as? String ?? ""))
        try data.write(to: URL(fileURLWithPath: path))
    }
}

struct DevToolsError: Error, CustomStringConvertible { var description: String }
