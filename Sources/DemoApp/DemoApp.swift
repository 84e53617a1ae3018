import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The sample app used by the demo, the tests and the benchmarks.
///
/// `GET /` answers 200 with its release (or 500 for a `fail_rate` share), `/health/live`, `/health/ready`
/// (503 when `ready` is false), `/metrics`. Behaviour comes from `demo-app.json` in the working directory:
/// `{"ready": true, "ready_after_ms": 0, "fail_rate": 0.0, "latency_ms": 0, "crash_after_s": null, "live_fail_after_s": null, "fail_after_s": null}`. `/env` answers the
/// Slipway variables it runs with (`SLIPWAY_APP`, `SLIPWAY_ENV`, `SLIPWAY_RELEASE`, `SLIPWAY_SHARED`).
public enum DemoApp {
    public struct Settings: Codable, Sendable {
        public var ready = true
        /// Not ready until this long after the process started (a slow warm-up).
        public var readyAfterMs = 0
        public var failRate = 0.0
        public var latencyMs = 0
        public var crashAfterS: Double?
        /// `/health/live` fails from this long after the start on (a hung process that still runs).
        public var liveFailAfterS: Double?
        /// `fail_rate` applies only from this long after the start on (a release that goes bad after the switch).
        public var failAfterS: Double?
        /// `ready_after_ms` applies only to instances in this slot or above (`SLIPWAY_INSTANCE` ends in the slot):
        /// a release whose first instances are ready at once and whose added ones warm up slowly.
        public var slowFromSlot: Int?

        enum CodingKeys: String, CodingKey {
            case ready
            case readyAfterMs = "ready_after_ms"
            case failRate = "fail_rate", latencyMs = "latency_ms", crashAfterS = "crash_after_s", liveFailAfterS = "live_fail_after_s", failAfterS = "fail_after_s", slowFromSlot = "slow_from_slot"
        }

        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ready = try c.decodeIfPresent(Bool.self, forKey: .ready) ?? true
            readyAfterMs = try c.decodeIfPresent(Int.self, forKey: .readyAfterMs) ?? 0
            failRate = try c.decodeIfPresent(Double.self, forKey: .failRate) ?? 0
            latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
            crashAfterS = try c.decodeIfPresent(Double.self, forKey: .crashAfterS)
            liveFailAfterS = try c.decodeIfPresent(Double.self, forKey: .liveFailAfterS)
            failAfterS = try c.decodeIfPresent(Double.self, forKey: .failAfterS)
            slowFromSlot = try c.decodeIfPresent(Int.self, forKey: .slowFromSlot)
        }
    }

    /// Parses `--port P` / `--version V` (falling back to PORT / SLIPWAY_RELEASE) and serves until SIGTERM.
    public static func main(arguments: [String]) async throws {
        let env = ProcessInfo.processInfo.environment
        var port = Int(env["PORT"] ?? "") ?? 8080
        var version = env["SLIPWAY_RELEASE"] ?? "dev"
        var worker = false
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--port" where i + 1 < arguments.count: port = Int(arguments[i + 1]) ?? port; i += 1
            case "--version" where i + 1 < arguments.count: version = arguments[i + 1]; i += 1
            case "--worker": worker = true
            default: break
            }
            i += 1
        }
        if worker { return await work(version: version) }
        var settings = Settings()
        if let data = FileManager.default.contents(atPath: "demo-app.json") {
            settings = try JSONDecoder().decode(Settings.self, from: data)
        }
        try await serve(port: port, version: version, settings: settings)
    }

    public static func serve(port: Int, version: String, settings: Settings) async throws {
        var logger = Logger(label: "demo-app")
        logger.logLevel = .notice
        let counter = RequestCounter()
        let router = Router()
        let instance = ProcessInfo.processInfo.environment["SLIPWAY_INSTANCE"] ?? "local"
        let launched = ContinuousClock.now
        router.get("/") { _, _ -> Response in
            let n = counter.next()
            if settings.latencyMs > 0 { try await Task.sleep(for: .milliseconds(settings.latencyMs)) }
            let failing = settings.failAfterS.map { ContinuousClock.now - launched >= .milliseconds(Int64($0 * 1000)) } ?? true
            if failing, settings.failRate > 0, Double.random(in: 0..<1) < settings.failRate {
                return Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "failure injected by demo-app \(version)\n")))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: "hello from demo-app \(version) (\(instance), request \(n))\n")))
        }
        let started = ContinuousClock.now
        router.get("/health/live") { _, _ -> Response in
            if let after = settings.liveFailAfterS, ContinuousClock.now - started >= .milliseconds(Int64(after * 1000)) {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "hung (live_fail_after_s: \(after))\n")))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        let slot = instance.split(separator: "-").last.flatMap { Int($0) } ?? 0
        let warmUp = settings.slowFromSlot.map { slot >= $0 } ?? true ? settings.readyAfterMs : 0
        let readyAt = ContinuousClock.now + .milliseconds(warmUp)
        router.get("/health/ready") { _, _ -> Response in
            guard settings.ready else {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "not ready (demo-app.json says ready: false)\n")))
            }
            guard ContinuousClock.now >= readyAt else {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "warming up (ready_after_ms: \(settings.readyAfterMs))\n")))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
        router.get("/env") { _, _ -> Response in
            let env = ProcessInfo.processInfo.environment
            let text = ["SLIPWAY_APP", "SLIPWAY_ENV", "SLIPWAY_RELEASE", "SLIPWAY_SHARED"].map { "\($0)=\(env[$0] ?? "")" }.joined(separator: "\n")
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            let text = "# TYPE demo_requests_total counter\ndemo_requests_total{release=\"\(version)\"} \(counter.value)\n"
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "demo-app"), logger: logger)
        if let after = settings.crashAfterS {
            Task {
                try await Task.sleep(for: .milliseconds(Int64(after * 1000)))
                FileHandle.standardError.write(Data("demo-app: crashing as configured (crash_after_s: \(after))\n".utf8))
                exit(3)
            }
        }
        let shared = ProcessInfo.processInfo.environment["SLIPWAY_SHARED"].map { ", shared data in \($0)" } ?? ""
        print("demo-app \(version) listening on 127.0.0.1:\(port)\(shared)")
        fflush(nil)  // stdout is a file here: without this the line would wait in the buffer
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

final class RequestCounter: Sendable {
    private let count = Mutex<Int>(0)
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
    var value: Int { count.withLock { $0 } }
}
