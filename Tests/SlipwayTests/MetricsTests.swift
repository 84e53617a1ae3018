import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// The router's stats as Prometheus metrics, scraped by a real Prometheus (Debian's `prometheus`).
@Suite(.serialized)
struct MetricsTests {
    static var prometheus: String? {
        ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
    static var canRun: Bool { prometheus != nil || TestServices.required }

    @Test func theTextFormatHasEveryFamilyWithEscapedLabels() {
        let report: RouterStatsReport = ["prod\"x": ["v1": PoolStatsSnapshot(requests: 10, inflight: 1, responses2xx: 8, responses5xx: 1, upstreamErrors: 2, connections: 3,
                                                                     windows: ["1m": WindowStats(requests: 9, responses2xx: 8, responses5xx: 1, p50Ms: 1.5, p99Ms: 40)])]]
        let text = RouterMetrics.render(report, held: ["prod\"x": 4])
        #expect(text.contains(#"slipway_router_requests_total{listener="prod\"x",pool="v1"} 10"#))
        #expect(text.contains(#"slipway_router_responses_total{listener="prod\"x",pool="v1",class="5xx"} 1"#))
        #expect(text.contains(#"slipway_router_window_latency_seconds{listener="prod\"x",pool="v1",window="1m",quantile="0.99"} 0.04"#))
        #expect(text.contains(#"slipway_router_window_error_ratio{listener="prod\"x",pool="v1",window="1m"} 0.1111"#))
        #expect(text.contains(#"slipway_router_held_requests{listener="prod\"x"} 4"#))
        #expect(text.contains("# TYPE slipway_router_requests_total counter"))
    }

    @Test(.timeLimit(.minutes(2)), .enabled(if: MetricsTests.canRun, "needs Debian's prometheus (scripts/test.sh installs it)"))
    func prometheusScrapesTheRouter() async throws {
        let binary = try #require(Self.prometheus, "prometheus is not installed (apt-get install prometheus)")
        let backend = try await RouterTests.backend("a")
        try await stopping([backend.task]) {
            let port = try PortAllocator.freePort(), metrics = try PortAllocator.freePort(), web = try PortAllocator.freePort()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-prom-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            // Prometheus starts first (its start-up overlaps the router's); it scrapes every second.
            let config = "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: slipway\n    static_configs:\n      - targets: ['127.0.0.1:\(metrics)']\n"
            try config.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
            let prom = try ProcessSpawner.spawn(argv: [binary, "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                                       "--web.listen-address=127.0.0.1:\(web)"],
                                                directory: dir, environment: ProcessInfo.processInfo.environment, logFile: dir + "/prometheus.log")
            defer { kill(prom.pid, SIGTERM) }
            let router = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "router", "--listen", "127.0.0.1:\(port)", "--upstream", "127.0.0.1:\(backend.port)",
                                                         "--threads", "1", "--metrics", "127.0.0.1:\(metrics)"],
                                                  directory: dir, environment: ProcessInfo.processInfo.environment, logFile: dir + "/router.log")
            defer { kill(router.pid, SIGTERM) }
            _ = try await poll(within: .seconds(20)) { (try? await SlipwayHTTPProbe.get(port: port)) == "200 backend a\n" ? true : nil }
            for _ in 0..<24 { _ = try await SlipwayHTTPProbe.get(port: port) }

            let query = "slipway_router_requests_total%7Blistener%3D%22default%22%2Cpool%3D%22static%22%7D"
            // A scrape after the last request sees all 25, no more, no fewer (earlier scrapes saw fewer).
            let value = try await Self.firstValue(query, prometheusPort: web) { $0 >= 25 }
            #expect(value == 25)
            // The 1-minute window's p99 is there too, in seconds.
            let p99 = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: web),
                                                         path: "/api/v1/query?query=slipway_router_window_latency_seconds%7Bwindow%3D%221m%22%2Cquantile%3D%220.99%22%7D")
            #expect(p99.bodyText.contains("\"pool\":\"static\""), "\(p99.bodyText)")
        }
    }

    /// Polls a Prometheus on `prometheusPort` until `query` (URL-encoded) has a result; its first value.
    /// With `until`, the first value that satisfies it.
    static func firstValue(_ query: String, prometheusPort web: Int, until wanted: @Sendable (Double) -> Bool = { _ in true }) async throws -> Double {
        try await poll(within: .seconds(60), every: .milliseconds(200)) { () async -> Double? in
            guard let r = try? await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: web), path: "/api/v1/query?query=\(query)"),
                  let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
                  let data = json["data"] as? [String: Any], let result = (data["result"] as? [[String: Any]])?.first,
                  let pair = result["value"] as? [Any], let text = pair.last as? String, let v = Double(text), wanted(v) else { return nil }
            return v
        }
    }
}
