import Foundation
import SlipwayCore
import Testing

/// The alert state machine with an injected clock: `for`, `keep_firing_for`, unknown readings, resolution.
struct AlertTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test func anAlertFiresOnlyAfterHoldingForItsDuration() {
        var a = AlertTracker(since: t0)
        let forTwoMinutes: Duration = .seconds(120)
        #expect(a.observe(true, at: at(0), pendingFor: forTwoMinutes, keepFiringFor: .zero) == .pending)
        #expect(a.observe(true, at: at(60), pendingFor: forTwoMinutes, keepFiringFor: .zero) == nil, "still pending at 1m")
        #expect(a.observe(nil, at: at(90), pendingFor: forTwoMinutes, keepFiringFor: .zero) == nil, "an unknown reading changes nothing")
        #expect(a.observe(true, at: at(119), pendingFor: forTwoMinutes, keepFiringFor: .zero) == nil)
        #expect(a.observe(true, at: at(120), pendingFor: forTwoMinutes, keepFiringFor: .zero) == .firing)
        #expect(a.firedAt == at(120) && a.phase == .firing)
    }

    @Test func aBreakWhilePendingStartsTheWaitAgain() {
        var a = AlertTracker(since: t0)
        _ = a.observe(true, at: at(0), pendingFor: .seconds(60), keepFiringFor: .zero)
        #expect(a.observe(false, at: at(50), pendingFor: .seconds(60), keepFiringFor: .zero) == .inactive, "it never fired")
        #expect(a.observe(true, at: at(55), pendingFor: .seconds(60), keepFiringFor: .zero) == .pending)
        #expect(a.observe(true, at: at(100), pendingFor: .seconds(60), keepFiringFor: .zero) == nil, "45s since the break, not 100")
        #expect(a.observe(true, at: at(115), pendingFor: .seconds(60), keepFiringFor: .zero) == .firing)
    }

    @Test func keepFiringForHoldsAFiringAlertThroughShortDips() {
        var a = AlertTracker(since: t0)
        let keep: Duration = .seconds(300)
        #expect(a.observe(true, at: at(0), pendingFor: .zero, keepFiringFor: keep) == .firing, "no for: fires at once")
        #expect(a.observe(false, at: at(10), pendingFor: .zero, keepFiringFor: keep) == nil)
        #expect(a.observe(true, at: at(200), pendingFor: .zero, keepFiringFor: keep) == nil, "back before 5m: still the same firing")
        #expect(a.observe(false, at: at(210), pendingFor: .zero, keepFiringFor: keep) == nil)
        #expect(a.observe(false, at: at(509), pendingFor: .zero, keepFiringFor: keep) == nil, "4m59s false")
        #expect(a.observe(false, at: at(510), pendingFor: .zero, keepFiringFor: keep) == .resolved)
        #expect(a.resolvedAt == at(510) && a.firedAt == at(0))
        #expect(a.observe(false, at: at(600), pendingFor: .zero, keepFiringFor: keep) == nil, "resolved stays resolved")
        #expect(a.observe(true, at: at(700), pendingFor: .seconds(30), keepFiringFor: keep) == .pending, "a new episode waits again")
    }

    @Test func aFiringAlertIsAnnouncedAgainEveryRepeatInterval() {
        var a = AlertTracker(since: t0)
        func due(_ s: Double, _ every: Duration = .seconds(3600)) -> Bool { a.repeatDue(at: at(s), every: every) }
        func see(_ holds: Bool, _ s: Double) { _ = a.observe(holds, at: at(s), pendingFor: .zero, keepFiringFor: .zero) }
        let notFiring = due(0)
        see(true, 0)
        let early = due(3599), onTime = due(3600), again = due(3700), nextHour = due(7200), never = due(99_999, .zero)
        #expect(!notFiring && !early && onTime && !again && nextHour, "once an hour while firing")
        #expect(!never, "repeat: 0 announces once")
        see(false, 8000)
        let quiet = due(20_000)
        see(true, 30_000)
        let soon = due(30_100), fresh = due(33_600)
        #expect(!quiet && !soon && fresh, "resolved is quiet; a new episode counts from its firing")
    }

    @Test func withoutKeepFiringAnAlertResolvesAtTheFirstFalseReading() {
        var a = AlertTracker(since: t0)
        _ = a.observe(true, at: at(0), pendingFor: .zero, keepFiringFor: .zero)
        #expect(a.observe(nil, at: at(5), pendingFor: .zero, keepFiringFor: .zero) == nil)
        #expect(a.observe(false, at: at(6), pendingFor: .zero, keepFiringFor: .zero) == .resolved)
    }

    @Test func alertConfigIsCheckedKeyByKey() {
        let yaml = """
            app: shop
            process: { command: x }
            alerts:
              - { name: high-error-rate, expr: "error_rate > 5%", for: 2m, keep_firing_for: 5m, severity: P0, runbook: "https://wiki/errors" }
              - { name: slow, expr: "p95_latency > 500ms", for: 5m, severity: P2 }
              - { name: backup-stale, expr: "backup_age > 26h", severity: P2 }
              - { name: disk, expr: "disk_free < 10%", severity: P1 }
              - { name: prom, prometheus: { url: "http://127.0.0.1:9090", query: "up" }, expr: "value < 1", severity: p2 }
            """
        do {
            let cfg = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            #expect(cfg.alerts.map(\.name) == ["high-error-rate", "slow", "backup-stale", "disk", "prom"])
            #expect(cfg.alerts[0].pendingFor == .seconds(120) && cfg.alerts[0].keepFiringFor == .seconds(300) && cfg.alerts[0].severity == .p0)
            #expect(cfg.alerts[1].rule.metric == .latency(95) && cfg.alerts[2].rule.threshold == .absolute(26 * 3600))
            #expect(cfg.alerts[3].rule.metric == .diskFree && cfg.alerts[3].rule.threshold == .absolute(0.1))
        } catch { Issue.record("\(error)") }
        let bad = """
            app: shop
            process: { command: x }
            alerts:
              - { name: crash-loop, expr: "error_rate > 5%" }
              - { name: x, expr: "error_rate > baseline + 1%", severity: P9 }
              - { name: y, expr: "error_rate > 5% for 2m" }
              - { expr: "cpu > 2" }
            """
        do {
            _ = try ConfigLoader.parse(yaml: bad, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("slipway.yml:4:13: alerts[0].name: 'crash-loop' is a built-in alert"), "\(text)")
            #expect(text.contains("alerts[1].expr: 'error_rate > baseline + 1%': an alert compares with a number"), "\(text)")
            #expect(text.contains("alerts[1].severity: expected P0, P1, P2 or P3, got 'P9'"), "\(text)")
            #expect(text.contains("alerts[2].expr: 'error_rate > 5% for 2m': put the duration in the alert's for: key"), "\(text)")
            #expect(text.contains("alerts[3].name: missing required key"), "\(text)")
        }
    }

    @Test func severitiesOrderFromCritical() {
        #expect(Severity.p0.meets(.p1) && Severity.p1.meets(.p1) && !Severity.p2.meets(.p1))
        #expect(Severity.allCases.sorted() == [.p0, .p1, .p2, .p3])
    }

    @Test func theReviewIsPrefilledFromTheIncident() {
        var i = IncidentInfo(id: 4, environment: "production", title: "high-error-rate in production", severity: .p0, trigger: "alert high-error-rate", openedAt: at(300))
        i.release = "v7"
        i.deploymentId = 12
        i.releaseSince = at(0)
        i.requestsAtOpen = 1000
        i.errorsAtOpen = 40
        i.requestsAtEnd = 3000
        i.errorsAtEnd = 1040
        i.mitigatedAt = at(420)
        i.resolvedAt = at(900)
        i.status = .resolved
        let md = IncidentReview.markdown(IncidentDetail(incident: i, timeline: [.init(time: at(0), kind: "deploy", text: "deploy of v7 | succeeded")]), now: at(1000))
        #expect(md.contains("1000 of 2000 requests failed (50.0%) on v7 between the incident's opening and its mitigation."), "\(md)")
        #expect(md.contains("— 5m after the release went live") && md.contains("time to mitigate 2m") && md.contains("time to resolve 10m"), "\(md)")
        #expect(md.contains("| deploy: deploy of v7 \\| succeeded |"), "a pipe in the text does not break the table")
        var unmeasured = i
        unmeasured.errorsAtEnd = 10  // the router restarted: its counters went down
        #expect(IncidentReview.markdown(IncidentDetail(incident: unmeasured, timeline: []), now: at(1000)).contains("Not measured"))
    }
}
