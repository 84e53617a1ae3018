import Foundation
import SlipwayCore
import SlipwayRuntime
import Testing

/// Deploy windows and freezes: pure checks with the time passed in, across a DST change.
@Suite struct GovernanceTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static func utc(_ text: String) -> Date { SlipwayJSON.parseDate(text)! }
    static let deployer = Principal(name: "ci", via: .socket)

    static func facts(_ now: String, _ g: GovernanceSettings) -> PolicyFacts {
        var f = PolicyFacts(lock: nil, lockTTL: 30, now: utc(now))
        f.governance = g
        return f
    }

    /// Mon–Thu 09:00–16:00 Berlin follows the wall clock across the switch to summer time (2026-03-29).
    @Test func aWindowFollowsTheWallClockAcrossDST() {
        let w = DeployWindow(days: [2, 3, 4, 5], from: 9 * 60, to: 16 * 60, timezone: Self.berlin)
        #expect(w.contains(Self.utc("2026-03-26T08:30:00Z")), "Thu 09:30 CET")
        #expect(!w.contains(Self.utc("2026-03-26T07:30:00Z")), "Thu 08:30 CET")
        #expect(w.contains(Self.utc("2026-03-30T07:30:00Z")), "Mon 09:30 CEST: the same UTC time was closed the week before")
        #expect(!w.contains(Self.utc("2026-03-30T14:30:00Z")), "Mon 16:30 CEST")
        #expect(!w.contains(Self.utc("2026-03-27T08:30:00Z")), "Fri is not listed")
        // Friday afternoon: the next opening is Monday 09:00 in summer time, 07:00Z.
        #expect(w.nextOpening(after: Self.utc("2026-03-27T15:00:00Z")) == Self.utc("2026-03-30T07:00:00Z"))
        let night = DeployWindow(days: [7], from: 22 * 60, to: 2 * 60, timezone: Self.berlin)
        #expect(night.contains(Self.utc("2026-11-28T22:30:00Z")) && night.contains(Self.utc("2026-11-29T00:30:00Z")), "Sat 23:30 and Sun 01:30")
        #expect(!night.contains(Self.utc("2026-11-29T21:30:00Z")), "Sun 22:30 belongs to Sunday, not listed")
    }

    /// "0 18 * * fri" for 62 hours: from Friday 18:00 to Monday morning; the duration is elapsed time, so
    /// across the spring DST change it ends at 09:00 local, an hour later on the wall clock.
    @Test func aRecurringFreezeStartsByCronAndLastsItsDuration() throws {
        let weekend = DeployFreeze(name: "weekend", span: .recurring(try CronSchedule(parsing: "0 18 * * fri"), .seconds(62 * 3600)), timezone: Self.berlin)
        #expect(weekend.activeUntil(Self.utc("2026-03-27T16:59:00Z")) == nil, "Fri 17:59 CET")
        #expect(weekend.activeUntil(Self.utc("2026-03-27T17:00:00Z")) == Self.utc("2026-03-30T07:00:00Z"), "Fri 18:00 CET until Mon 09:00 CEST")
        #expect(weekend.activeUntil(Self.utc("2026-03-30T06:59:00Z")) != nil)
        #expect(weekend.activeUntil(Self.utc("2026-03-30T07:00:00Z")) == nil)
        let yearEnd = DeployFreeze(name: "year-end", span: .once(from: Self.utc("2026-12-19T23:00:00Z"), to: Self.utc("2027-01-03T23:00:00Z")), timezone: Self.berlin)
        #expect(yearEnd.activeUntil(Self.utc("2026-12-24T12:00:00Z")) == Self.utc("2027-01-03T23:00:00Z"))
        #expect(yearEnd.activeUntil(Self.utc("2027-01-04T00:00:00Z")) == nil)
    }

    @Test func freezesRefuseDeploysAndByChoiceRollbacks() throws {
        var g = GovernanceSettings()
        g.freezes = [DeployFreeze(name: "weekend", span: .recurring(try CronSchedule(parsing: "0 18 * * fri"), .seconds(62 * 3600)), timezone: Self.berlin)]
        let saturday = Self.facts("2026-11-28T10:00:00Z", g)
        let deploy = PolicyRequest(operation: .deploy, environment: "production", version: "v2", actor: Self.deployer)
        guard case .refuse(let why) = Policy().evaluate(deploy, saturday) else { Issue.record("a deploy passed a freeze"); return }
        #expect(why.rule == "freeze" && why.passesAt == Self.utc("2026-11-30T07:00:00Z"))
        #expect(why.reason.contains("frozen (weekend) until 2026-11-30 08:00 Europe/Berlin (2026-11-30 07:00Z)"), "\(why.reason)")
        let rollback = PolicyRequest(operation: .rollback, environment: "production", version: "v1", actor: Self.deployer)
        #expect(Policy().evaluate(rollback, saturday) == .allow, "rollbacks stay allowed by default")
        g.rollbackInFreeze = false
        guard case .refuse = Policy().evaluate(rollback, Self.facts("2026-11-28T10:00:00Z", g)) else { Issue.record("rollback_in_freeze: false"); return }
        var override = deploy
        override.overrideWindow = true
        #expect(Policy().evaluate(override, saturday) == .allow)
    }

    @Test func aDeployOutsideEveryWindowIsRefusedWithTheNextOpening() {
        var g = GovernanceSettings()
        g.windows = [DeployWindow(days: [2, 3, 4, 5], from: 9 * 60, to: 16 * 60, timezone: Self.berlin)]
        let request = PolicyRequest(operation: .deploy, environment: "production", version: "v2", actor: Self.deployer)
        guard case .refuse(let why) = Policy().evaluate(request, Self.facts("2026-11-27T15:00:00Z", g)) else { Issue.record("Friday passed"); return }
        #expect(why.rule == "window" && why.passesAt == Self.utc("2026-11-30T08:00:00Z"), "\(why)")
        #expect(Policy().evaluate(request, Self.facts("2026-11-26T10:00:00Z", g)) == .allow, "Thursday 11:00")
        let scale = PolicyRequest(operation: .scale, environment: "production", actor: Self.deployer)
        #expect(Policy().evaluate(scale, Self.facts("2026-11-27T15:00:00Z", g)) == .allow, "windows hold deploys only")
    }

    /// `promote_from` + `soak`: never without a success there; the soak counts from the switch; a rollback there resets it.
    @Test func promotionNeedsASoakedSuccessInTheSourceEnvironment() {
        let request = PolicyRequest(operation: .deploy, environment: "production", version: "v2", actor: Self.deployer)
        func decide(_ p: PromotionFacts, now: String = "2026-11-26T10:40:00Z") -> PolicyDecision {
            var f = Self.facts(now, GovernanceSettings())
            f.promotion = p
            return PromotionCheck().evaluate(request, f)
        }
        guard case .refuse(let never) = decide(PromotionFacts(source: "staging", soak: .seconds(1800), succeededAt: nil, rolledBackSince: nil)) else { Issue.record("no success"); return }
        #expect(never.reason.contains("has not succeeded in 'staging'"))
        let tenMinutesAgo = PromotionFacts(source: "staging", soak: .seconds(1800), succeededAt: Self.utc("2026-11-26T10:30:00Z"), rolledBackSince: nil)
        guard case .refuse(let early) = decide(tenMinutesAgo) else { Issue.record("before the soak"); return }
        #expect(early.reason.hasSuffix("soaked in 'staging' for 10m of 30m; 20m left") && early.passesAt == Self.utc("2026-11-26T11:00:00Z"), "\(early.reason)")
        #expect(decide(tenMinutesAgo, now: "2026-11-26T11:00:00Z") == .allow)
        var reset = tenMinutesAgo
        reset.rolledBackSince = 7
        guard case .refuse(let rolled) = decide(reset, now: "2026-11-26T12:00:00Z") else { Issue.record("a rollback did not reset it"); return }
        #expect(rolled.reason.contains("was rolled back in 'staging' (deployment 7)"))
    }

    /// What counts: others' approvals of this digest, younger than the limit, one per person.
    @Test func onlyFreshApprovalsOfOthersForThisArtifactCount() {
        let now = Self.utc("2026-11-26T12:00:00Z")
        func a(_ user: String, _ decision: String = "approve", hoursAgo: Double = 1, digest: String = "sha256:a") -> ApprovalInfo {
            ApprovalInfo(deploymentId: 1, user: user, decision: decision, comment: nil, time: now.addingTimeInterval(-hoursAgo * 3600), digest: digest)
        }
        let all = [a("ci"), a("alice"), a("alice"), a("bob", hoursAgo: 25), a("carol", digest: "sha256:b"), a("dave", "reject"), a("erin")]
        let counting = ApprovalInfo.counting(all, requester: "ci", digest: "sha256:a", now: now, expireAfter: .seconds(86_400))
        #expect(counting.map(\.user) == ["alice", "erin"], "not the requester's, not expired, not another artifact's, once per person")
    }

    @Test func governanceIsConfiguredPerEnvironment() throws {
        let yaml = """
            app: shop
            process: { command: x }
            environments:
              staging: { router: { listen: "127.0.0.1:8100" } }
              production:
                windows:
                  - { days: [mon, tue, wed, thu], from: "09:00", to: "16:00", timezone: Europe/Berlin }
                freezes:
                  - { name: year-end, from: 2026-12-20T00:00, to: 2027-01-04T00:00, timezone: Europe/Berlin }
                  - { name: weekend, cron: "0 18 * * fri", duration: 62h, timezone: Europe/Berlin }
                rollback_in_freeze: false
            """
        let cfg = try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        let g = try cfg.environment("production").governance
        #expect(g.windows.count == 1 && g.windows[0].description == "mon,tue,wed,thu 09:00–16:00 Europe/Berlin")
        #expect(g.freezes.map(\.name) == ["year-end", "weekend"] && !g.rollbackInFreeze)
        #expect(g.freezes[0].span == .once(from: Self.utc("2026-12-19T23:00:00Z"), to: Self.utc("2027-01-03T23:00:00Z")))
        #expect(try cfg.environment("staging").governance == GovernanceSettings())
    }

    static let badConfigs: [(String, String)] = [
        ("windows: [{ days: [funday], from: \"09:00\", to: \"16:00\" }]", "windows[0].days: expected days like mon, tue … sun, got 'funday'"),
        ("windows: [{ from: \"09:00\", to: \"25:00\" }]", "windows[0].to: expected a time like 09:00, got '25:00'"),
        ("windows: [{ from: \"09:00\", to: \"16:00\", timezone: Mars/Olympus }]", "windows[0].timezone: expected an IANA time zone like Europe/Berlin or UTC, got 'Mars/Olympus'"),
        ("freezes: [{ name: x, cron: \"0 18 * * fri\", duration: 1h, from: 2026-12-20T00:00 }]", "freezes[0]: a freeze is either one-off (from, to) or recurring (cron, duration), not both"),
        ("freezes: [{ name: x, from: 2026-12-20T00:00, to: 2026-12-19T00:00 }]", "freezes[0].to: the freeze ends before it starts"),
        ("freezes: [{ name: x, cron: \"0 18 * * fri\" }]", "freezes[0].duration: missing required key"),
    ]

    @Test(arguments: badConfigs.indices)
    func badGovernanceIsRejectedWithItsKey(_ i: Int) {
        let (yaml, expected) = Self.badConfigs[i]
        do {
            _ = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\n" + yaml + "\n", file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description.contains("slipway.yml:3:") && error.description.contains(expected), "\(error.description)")
        }
    }
}

/// Failed authentications per source: the eleventh within a minute is refused until the first ages out.
@Suite struct AuthFailureLimiterTests {
    @Test func aSourceIsHeldAfterTooManyFailures() {
        var limiter = AuthFailureLimiter(limit: 10, window: 60)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for i in 0..<10 {
            #expect(limiter.blockedUntil("10.0.0.9", now: t0 + Double(i)) == nil)
            limiter.fail("10.0.0.9", now: t0 + Double(i))
        }
        #expect(limiter.blockedUntil("10.0.0.9", now: t0 + 10) == t0 + 60)
        #expect(limiter.blockedUntil("10.0.0.8", now: t0 + 10) == nil, "per source")
        #expect(limiter.blockedUntil("10.0.0.9", now: t0 + 60) == nil, "the first failure aged out")
    }
}
