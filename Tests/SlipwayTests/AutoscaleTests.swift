import Foundation
import SlipwayClient
import SlipwayCore
import Testing

/// Autoscaling: the decider with synthetic CPU readings and an injected clock, the config, and one real
/// scale-out through the daemon.
@Suite(.serialized)
struct AutoscaleTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }
    static func rule(_ text: String) -> Rule { try! RuleParser.parse(text) }

    /// min 2, max 4; out after `cpu > 70%` for 10m (step 1), in after `cpu < 30%` for 30m; cooldown 5m.
    var settings: AutoscaleSettings {
        AutoscaleSettings(min: 2, max: 4, out: .init(rule: Self.rule("cpu > 70%"), holdFor: .seconds(600)),
                          in: .init(rule: Self.rule("cpu < 30%"), holdFor: .seconds(1800)), cooldown: .seconds(300))
    }

    /// Feeds one synthetic CPU reading (a share of a core) every 30 s and returns the decisions that scaled.
    func run(_ d: inout AutoscaleDecider, _ cpu: [Double], from start: Double, instances: inout Int) -> [(Double, Int)] {
        var changes: [(Double, Int)] = []
        for (k, c) in cpu.enumerated() {
            let t = start + Double(k) * 30
            if case .scale(let n, _) = d.observe(out: c > 0.7, in: c < 0.3, instances: instances, at: at(t)) {
                changes.append((t, n))
                instances = n
            }
        }
        return changes
    }

    @Test func cpuHighForTenMinutesScalesOutOneStepAtATime() {
        var d = AutoscaleDecider(settings: settings)
        var n = 2
        // 25 minutes at 90%: out at 10m (to 3). A change restarts the wait, so the new count is watched for
        // another full 10 minutes (from the next reading, 10m30s): out again at 20m30s (to 4), then max.
        let changes = run(&d, Array(repeating: 0.9, count: 50), from: 0, instances: &n)
        #expect(changes.map(\.0) == [600, 1230] && changes.map(\.1) == [3, 4], "\(changes)")
    }

    @Test func theCooldownSpacesChangesOut() {
        var d = AutoscaleDecider(settings: AutoscaleSettings(min: 1, max: 8, out: .init(rule: Self.rule("cpu > 70%"), holdFor: .seconds(60)), cooldown: .seconds(300)))
        var n = 1
        // Held for 1m at 60s; held again from 90s to 150s, but the 5m cooldown holds it until 360s.
        let changes = run(&d, Array(repeating: 0.9, count: 24), from: 0, instances: &n)
        #expect(changes.map(\.0) == [60, 360, 660] && changes.map(\.1) == [2, 3, 4], "\(changes)")
    }

    @Test func aBriefSpikeDoesNotScale() {
        var d = AutoscaleDecider(settings: settings)
        var n = 2
        // 9.5 minutes high, one low reading, 9.5 minutes high again: the 10 minutes never hold without a break.
        let cpu = Array(repeating: 0.9, count: 19) + [0.5] + Array(repeating: 0.9, count: 19)
        #expect(run(&d, cpu, from: 0, instances: &n).isEmpty && n == 2)
    }

    @Test func lowCPUScalesInButNeverBelowMin() {
        var d = AutoscaleDecider(settings: settings)
        var n = 4
        let changes = run(&d, Array(repeating: 0.1, count: 200), from: 0, instances: &n)
        #expect(changes.map(\.1) == [3, 2] && changes[0].0 == 1800 && changes[1].0 == 3630, "30 minutes each, from the reading after the change: \(changes)")
        #expect(d.observe(out: false, in: true, instances: 2, at: at(10_000)) == .hold, "min holds")
    }

    @Test func unmeasuredReadingsStartAndStopNothingAndOutOfBoundsIsFixedAtOnce() {
        var d = AutoscaleDecider(settings: settings)
        _ = d.observe(out: true, in: false, instances: 2, at: at(0))
        #expect(d.observe(out: nil, in: nil, instances: 2, at: at(300)) == .hold)
        #expect(d.observe(out: true, in: false, instances: 2, at: at(600)) == .scale(to: 3, reason: "cpu > 70% for 10m"), "the nil reading did not break the 10 minutes")
        var fresh = AutoscaleDecider(settings: settings)
        #expect(fresh.observe(out: nil, in: nil, instances: 7, at: at(0)) == .scale(to: 4, reason: "above max 4"))
    }

    @Test func autoscaleConfigIsChecked() {
        let ok = "app: shop\nprocess: { command: x }\nautoscale: { min: 2, max: 8, out: { expr: \"cpu > 70%\", for: 10m, step: 2 }, in: { expr: \"cpu < 30%\", for: 30m }, cooldown: 5m }\n"
        let cfg = try? ConfigLoader.parse(yaml: ok, file: "slipway.yml", directory: "/tmp")
        #expect(cfg?.environments["production"]?.autoscale?.out?.step == 2 && cfg?.environments["production"]?.autoscale?.cooldown == .seconds(300))
        let bad = "app: shop\nprocess: { command: x }\nautoscale: { min: 4, max: 2, out: { for: 10m } }\n"
        do {
            _ = try ConfigLoader.parse(yaml: bad, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("autoscale.max: expected at least min (4), got 2"), "\(error.description)")
        }
    }

    /// A rule that always holds once CPU is measured: the daemon scales 1 → 2 through `scale`, audited as autoscale.
    @Test(.timeLimit(.minutes(1)))
    func theDaemonScalesOutThroughTheScalePath() async throws {
        let s = try Sandbox(extra: "watch: 0s\nautoscale: { min: 1, max: 2, out: { expr: \"cpu >= 0%\", for: 1s }, cooldown: 1h }")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.client.post("/v1/scale", ScaleRequest(environment: nil, instances: 1, actor: "test"), as: EnvironmentStatus.self)
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let scaled = try await poll(within: .seconds(20)) { () async throws -> EnvironmentStatus? in
                let st = try await s.status()
                return st.instances.filter { $0.release == "v1" && $0.state == .running && $0.ready }.count == 2 ? st : nil
            }
            #expect(scaled.currentRelease == "v1")
            // The scale is audited when it ends, which may be a moment after the new instance reports ready.
            let audit = try await poll(within: .seconds(10)) { () async throws -> [AuditEntry]? in
                let entries: [AuditEntry] = try await s.client.get("/v1/audit?limit=50")
                return entries.contains { $0.action == "scale" && $0.actor == "autoscale" } ? entries : nil
            }
            #expect(audit.contains { $0.action == "scale" && $0.actor == "autoscale" && $0.before == "1 instance(s)" && $0.after == "2 instance(s)" && $0.role == "daemon" },
                    "\(audit.map { "\($0.action) \($0.actor) \($0.before ?? "") \($0.after ?? "")" })")
        }
    }
}
