import Foundation
import SlipwayHTTP
import Synchronization

/// A bounded request loop through the router, counting successes, failures and which release answered.
/// Used by `slipway demo` and the tests; it stops by itself after `maxDuration`.
public final class LoadLoop: Sendable {
    public struct Summary: Sendable, Equatable {
        public var requests: Int
        public var failures: Int
        public var byRelease: [String: Int]
        public var lastFailure: String?
    }

    let endpoint: HTTPEndpoint
    let path: String
    let client: MiniHTTPClient
    /// The name asked for (SNI and `Host`) when it is not the address connected to.
    let serverName: String?
    let state = Mutex(Summary(requests: 0, failures: 0, byRelease: [:], lastFailure: nil))
    let stopFlag = Atomic<Bool>(false)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    /// `path`: what each request asks for.
    public init(host: String = "127.0.0.1", port: Int, client: MiniHTTPClient = MiniHTTPClient(), serverName: String? = nil, path: String = "/") {
        self.path = path
        endpoint = .tcp(host: host, port: port)
        self.client = client
        self.serverName = serverName
    }

    public func start(concurrency: Int = 4, maxDuration: Duration = .seconds(300)) {
        let deadline = ContinuousClock.now + maxDuration
        let client = self.client, serverName = self.serverName, path = self.path
        let started = (0..<concurrency).map { _ in
            Task { [self] in
                while !stopFlag.load(ordering: .relaxed), ContinuousClock.now < deadline {
                    do {
                        let r = try await client.request("GET", endpoint, path: path, timeout: .seconds(10), serverName: serverName)
                        let release = Self.release(in: r.bodyText)
                        state.withLock { s in
                            s.requests += 1
                            if r.status == 200 { s.byRelease[release, default: 0] += 1 } else {
                                s.failures += 1
                                s.lastFailure = "\(r.status): \(r.bodyText.prefix(200))"
                            }
                        }
                    } catch {
                        state.withLock { s in
                            s.requests += 1
                            s.failures += 1
                            s.lastFailure = "\(error)"
                        }
                    }
                }
            }
        }
        tasks.withLock { $0 += started }
    }

    public var summary: Summary { state.withLock { $0 } }

    /// Stops the loop and waits for requests in flight to finish.
    public func stop() async -> Summary {
        stopFlag.store(true, ordering: .relaxed)
        for t in tasks.withLock({ $0 }) { await t.value }
        return summary
    }

    /// "hello from demo-app v2 (…)" → "v2"
    static func release(in body: String) -> String {
        guard let r = body.range(of: "demo-app ") else { return "?" }
        return String(body[r.upperBound...].prefix { $0 != " " && $0 != "\n" })
    }
}
