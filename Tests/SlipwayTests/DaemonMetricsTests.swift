import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// The daemon's `/metrics` (Prometheus text, a viewer token) and `/health/*` (open), checked by
/// `promtool` and scraped by Debian's Prometheus.
@Suite(.serialized)
struct DaemonMetricsTests {
    static var promtool: String? { ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) } }

    @Test func theTextFormatEscapesLabelsAndBuildsHistograms() {
        var p = PrometheusText()
        p.family("slipway_x", "gauge", "An example.", [([("environment", "a\"b\\c\nd")], 1.5)])
        p.histogram("slipway_d_seconds", "Durations.", buckets: [1, 10], [([("kind", "deploy")], [0.5, 3, 30])])
        #expect(p.text.contains(#"slipway_x{environment="a\"b\\c\nd"} 1.5"#))
        for line in [#"slipway_d_seconds_bucket{kind="deploy",le="1"} 1"#, #"slipway_d_seconds_bucket{kind="deploy",le="10"} 2"#,
                     #"slipway_d_seconds_bucket{kind="deploy",le="+Inf"} 3"#, #"slipway_d_seconds_sum{kind="deploy"} 33.5"#,
                     #"slipway_d_seconds_count{kind="deploy"} 3"#, "# TYPE slipway_d_seconds histogram"] {
            #expect(p.text.contains(line), "\(line)\n\(p.text)")
        }
    }

    /// `promtool check metrics` reads the text on stdin; its exit status and complaints.
    static func promtoolCheck(_ text: String, in dir: String) throws -> (Int32, String) {
        let input = dir + "/metrics.txt", output = dir + "/promtool.out"
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(promtool))
        p.arguments = ["check", "metrics"]
        p.standardInput = FileHandle(forReadingAtPath: input)
        let out = FileHandle(forWritingAtPath: output)
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    @Test(.timeLimit(.minutes(2)), .enabled(if: MetricsTests.canRun, "needs Debian's prometheus and promtool (scripts/test.sh installs them)"))
    func prometheusScrapesTheDaemonWithAViewerToken() async throws {
        let binary = try #require(MetricsTests.prometheus, "prometheus is not installed (apt-get install prometheus)")
        let api = try PortAllocator.freePort(), web = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            alerts:
              - { name: disk-check, expr: "disk_free < 100%", severity: P1, repeat: 1s }
            \(Sandbox.sqliteBackup(""))
            """)
        try await s.withDaemon { _ in
            _ = try await s.seedDatabase("CREATE TABLE t (x);")
            let _: BackupInfo = try await s.client.post("/v1/backups", BackupCreateRequest(environment: nil, source: nil, actor: "t"))
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            _ = try await SlipwayHTTPProbe.get(port: s.port)
            let viewer: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "prometheus", roles: [.viewer], expires: nil))
            // Prometheus starts now (its start-up overlaps the checks below) and scrapes every second with the viewer's token.
            try viewer.token.write(toFile: s.dir + "/token", atomically: true, encoding: .utf8)
            let config = """
                global: { scrape_interval: 1s }
                scrape_configs:
                  - job_name: slipway
                    authorization: { type: Bearer, credentials_file: \(s.dir)/token }
                    static_configs: [{ targets: ['127.0.0.1:\(api)'] }]
                """
            try config.write(toFile: s.dir + "/prometheus.yml", atomically: true, encoding: .utf8)
            let prom = try ProcessSpawner.spawn(argv: [binary, "--config.file=\(s.dir)/prometheus.yml", "--storage.tsdb.path=\(s.dir)/prom-data",
                                                       "--web.listen-address=127.0.0.1:\(web)"],
                                                directory: s.dir, environment: ProcessInfo.processInfo.environment, logFile: s.dir + "/prometheus.log")
            defer { kill(prom.pid, SIGTERM) }
            let endpoint = HTTPEndpoint.tcp(host: "127.0.0.1", port: api)
            for path in ["/health/live", "/health/ready"] {
                #expect(try await MiniHTTPClient().request("GET", endpoint, path: path).status == 200, "\(path) needs no token")
            }
            #expect(try await MiniHTTPClient().request("GET", endpoint, path: "/metrics").status == 401, "/metrics needs a token")
            let r = try await poll(within: .seconds(10)) { () async throws -> MiniHTTPClient.Response? in
                let r = try await MiniHTTPClient().request("GET", endpoint, path: "/metrics", headers: [("Authorization", "Bearer \(viewer.token)")])
                return r.bodyText.contains(#"slipway_alerts_firing{severity="P1"} 1"#) ? r : nil
            }
            let text = r.bodyText
            #expect(r.status == 200 && r.header("Content-Type") == PrometheusText.contentType)
            for line in [#"slipway_deployments_total{environment="production",kind="deploy",outcome="succeeded"} 1"#,
                         #"slipway_deployment_duration_seconds_count{environment="production",kind="deploy"} 1"#,
                         #"slipway_requests_total{environment="production",release="v1"} "#, #"slipway_instances{environment="production",release="v1",state="running"} 2"#,
                         #"slipway_instance_resident_memory_bytes{environment="production",release="v1",slot="0"} "#,
                         #"slipway_incidents_open{severity="P1"} 1"#, #"slipway_dora_deployment_frequency_per_day{environment="production"} "#,
                         #"slipway_backups{environment="production"} 1"#, #"slipway_backup_age_seconds{environment="production"} "#] {
                #expect(text.contains(line), "missing \(line)")
            }
            let age = text.split(separator: "\n").first { $0.hasPrefix(#"slipway_backup_age_seconds{environment="production"} "#) }
                .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
            #expect(age.map { $0 >= 0 && $0 < 600 } == true, "the backup just taken: \(age.map { "\($0)" } ?? "none")")
            // status shows what the supervisor sampled: each serving instance's CPU and memory, and the disk.
            let sampled = try await poll(within: .seconds(10)) { () async throws -> EnvironmentStatus? in
                let st = try await s.status()
                return st.instances.allSatisfy({ ($0.rssBytes ?? 0) > 1_000_000 && $0.cpu != nil }) ? st : nil
            }
            #expect(sampled.diskFree.map { $0 > 0 && $0 < 1 } == true && sampled.memoryLimit == nil && sampled.memoryLimitEnforcement == nil)
            let shown = try await s.cli(["status"])
            #expect(shown.text.contains("CPU") && shown.text.contains("RSS") && shown.text.contains("MiB") && shown.text.contains("of its filesystem free"), "\(shown)")
            // Still firing: announced again every `repeat:` (here 1s).
            let repeated = try await poll(within: .seconds(10)) { () async throws -> Event? in
                let page: EventPage = try await s.client.get("/v1/events?since=0&limit=1000")
                return page.events.first { $0.type == "alert.repeated" }
            }
            #expect(repeated.payload.summary.contains("disk-check") && repeated.payload.summary.contains("since "), "\(repeated.payload.summary)")
            let (status, complaints) = try Self.promtoolCheck(text, in: s.dir)
            #expect(status == 0, "promtool check metrics: \(complaints)")

            let query = "slipway_deployments_total%7Benvironment%3D%22production%22%2Coutcome%3D%22succeeded%22%7D"
            let value = try await MetricsTests.firstValue(query, prometheusPort: web)
            #expect(value == 1)
        }
    }
}
