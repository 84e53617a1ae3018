import Foundation

extension DORAReport {
    /// Computes the report from an environment's deployments (any order), its incidents, and the commit time
    /// of each release still on disk (`git_commit_time`), for deployments that did not record their own
    /// `commit_time` (those started before Slipway recorded it). Pure: `from`/`to` bound the period.
    ///
    /// - Deployment frequency: successful deploys per day; the bucket is daily when the median week has
    ///   deploys on 3 or more days, weekly when the median week has one, monthly when the median month
    ///   has one, else yearly (Four Keys). Tier: daily elite, weekly high, monthly medium, yearly low.
    /// - Lead time for changes: median of commit time → the deploy's switch (its end), for deploys that
    ///   know their commit. Tier: < 1 day elite, < 1 week high, < 1 month medium, else low.
    /// - Change failure rate: deploys that reached traffic (succeeded or rolled back) and were followed by
    ///   a rollback (automatic or by hand) away from them, or linked to an incident / those deploys.
    ///   Tier: ≤ 5% elite, ≤ 10% high, ≤ 15% medium, else low (DORA 2023).
    /// - Failed deployment recovery time: median of incident opened → resolved (or mitigated), and of a
    ///   failed deploy → the next successful one where no incident covers it. Tier: < 1 hour elite,
    ///   < 1 day high, < 1 week medium, else low.
    /// - Rework rate: unplanned deployments (rollbacks, and deploys while an incident was open) / all
    ///   deployments. DORA publishes no bands for it; the change failure rate's are used.
    public static func compute(environment: String, deployments all: [DeploymentInfo], incidents: [IncidentInfo],
                               commitTimes: [String: Date], from: Date, to: Date) -> DORAReport {
        let ended = all.filter { $0.environment == environment && $0.finishedAt.map { $0 >= from && $0 <= to } == true }.sorted { $0.id < $1.id }
        let inPeriod = incidents.filter { $0.environment == environment && $0.openedAt >= from && $0.openedAt <= to }
        let deploys = ended.filter { $0.kind == .deploy }
        let succeeded = deploys.filter { $0.state == .succeeded }
        let days = max(1, to.timeIntervalSince(from) / 86_400)

        // Deployment frequency.
        let (bucket, tier) = frequencyBucket(succeeded.compactMap(\.finishedAt), from: from, to: to)
        let frequency = Metric(value: Double(succeeded.count) / days, unit: "per_day", tier: succeeded.isEmpty ? nil : tier,
                               bucket: succeeded.isEmpty ? nil : bucket, deployments: succeeded.map(\.id),
                               detail: "\(succeeded.count) successful deploy(s) in \(Int(days.rounded())) day(s)")

        // Lead time for changes.
        var leads: [(Int64, Double)] = []
        for d in succeeded {
            // The commit time recorded with the deployment; deployments recorded before it was, from the release on disk.
            guard let end = d.finishedAt, let commit = d.commitTime ?? commitTimes[d.version], end >= commit else { continue }
            leads.append((d.id, end.timeIntervalSince(commit)))
        }
        let lead = median(leads.map(\.1))
        let leadTime = Metric(value: lead, unit: "seconds", tier: lead.map { tierBelow($0, [86_400, 7 * 86_400, 30 * 86_400]) },
                              deployments: leads.map(\.0), detail: "median of \(leads.count) commit → switch time(s)")

        // Change failure rate.
        let reached = deploys.filter { $0.state == .succeeded || $0.state == .rolledBack }
        let incidentDeployments = Set(incidents.compactMap(\.deploymentId))
        // Per version, the newest successful rollback away from it: a deploy is undone when one came after it
        // (one pass, not a scan of every deployment per deploy).
        var undoneBy: [String: Int64] = [:]
        for r in ended where r.kind == .rollback && r.state == .succeeded {
            if let v = r.previousVersion { undoneBy[v] = max(undoneBy[v] ?? 0, r.id) }
        }
        let failed = reached.filter { d in
            d.state == .rolledBack || incidentDeployments.contains(d.id) || (undoneBy[d.version] ?? 0) > d.id
        }
        let cfr = reached.isEmpty ? nil : Double(failed.count) / Double(reached.count)
        let changeFailure = Metric(value: cfr, unit: "ratio", tier: cfr.map { tierAtMost($0, [0.05, 0.10, 0.15]) }, deployments: failed.map(\.id),
                                   detail: "\(failed.count) of \(reached.count) deploy(s) that reached traffic were rolled back or caused an incident")

        // Failed deployment recovery time.
        var recoveries: [Double] = []
        var recoveryIds: [Int64] = []
        for i in inPeriod {
            guard let end = i.resolvedAt ?? i.mitigatedAt else { continue }
            recoveries.append(end.timeIntervalSince(i.openedAt))
            if let d = i.deploymentId { recoveryIds.append(d) }
        }
        for d in deploys where d.state == .failed && !incidents.contains(where: { Self.opened($0, byFailed: d.id) }) {
            guard let end = d.finishedAt, let next = succeeded.first(where: { $0.id > d.id }), let fixed = next.finishedAt else { continue }
            recoveries.append(fixed.timeIntervalSince(end))
            recoveryIds.append(d.id)
        }
        let recovery = median(recoveries)
        let recoveryTime = Metric(value: recovery, unit: "seconds", tier: recovery.map { tierBelow($0, [3600, 86_400, 7 * 86_400]) },
                                  deployments: recoveryIds, detail: "median of \(recoveries.count) recovery time(s)")

        // Rework rate.
        let unplanned = ended.filter { d in
            d.kind == .rollback || (d.kind == .deploy && inPeriod.contains { i in i.openedAt <= d.startedAt && (i.resolvedAt ?? to) >= d.startedAt })
        }
        let rework = ended.isEmpty ? nil : Double(unplanned.count) / Double(ended.count)
        let reworkRate = Metric(value: rework, unit: "ratio", tier: rework.map { tierAtMost($0, [0.05, 0.10, 0.15]) }, deployments: unplanned.map(\.id),
                                detail: "\(unplanned.count) of \(ended.count) deployment(s) were unplanned (rollbacks, fixes during an incident)")

        return DORAReport(environment: environment, from: from, to: to, deploymentFrequency: frequency, leadTime: leadTime,
                          changeFailureRate: changeFailure, recoveryTime: recoveryTime, reworkRate: reworkRate)
    }

    /// Whether `incident` was opened by the failure of deployment `id` (incidents stored before causes were
    /// typed say so only in their trigger line).
    static func opened(_ incident: IncidentInfo, byFailed id: Int64) -> Bool {
        guard let cause = incident.cause else { return incident.trigger.hasPrefix("failed deployment \(id):") }
        return cause == .failedDeployment && incident.causeDeploymentId == id
    }

    /// The keys over time: `points` reports a `step` apart, the last ending at `end`, each over the `window` before
    /// its end (rolling, so a point is comparable with the tiers, which are meant for a month or more). Oldest first.
    public static func trend(environment: String, deployments: [DeploymentInfo], incidents: [IncidentInfo], commitTimes: [String: Date],
                             points: Int, step: TimeInterval, window: TimeInterval, end: Date) -> [DORAReport] {
        (0..<max(1, points)).reversed().map { k in
            let to = end.addingTimeInterval(-Double(k) * step)
            return compute(environment: environment, deployments: deployments, incidents: incidents, commitTimes: commitTimes,
                           from: to.addingTimeInterval(-window), to: to)
        }
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func tierBelow(_ v: Double, _ limits: [Double]) -> Tier {
        v < limits[0] ? .elite : v < limits[1] ? .high : v < limits[2] ? .medium : .low
    }

    static func tierAtMost(_ v: Double, _ limits: [Double]) -> Tier {
        v <= limits[0] ? .elite : v <= limits[1] ? .high : v <= limits[2] ? .medium : .low
    }

    /// Four Keys' buckets over the weeks and months of the period (UTC). Days and ISO weeks are counted from
    /// the epoch (1970-01-01 was a Thursday, so Monday-based week `n` holds days `7n - 3 … 7n + 3`); the
    /// calendar is asked only for each day's month, once per day (the DORA trend computes this 13 times).
    static func frequencyBucket(_ times: [Date], from: Date, to: Date) -> (String, Tier) {
        var utc = Calendar(identifier: .iso8601)
        utc.timeZone = TimeZone(identifier: "UTC")!
        func day(_ d: Date) -> Int { Int((d.timeIntervalSince1970 / 86_400).rounded(.down)) }
        func week(_ day: Int) -> Int { Int((Double(day + 3) / 7).rounded(.down)) }
        var monthOfDay: [Int: Int] = [:]
        func month(_ day: Int) -> Int {
            if let m = monthOfDay[day] { return m }
            let c = utc.dateComponents([.year, .month], from: Date(timeIntervalSince1970: Double(day) * 86_400))
            let m = (c.year ?? 0) * 12 + (c.month ?? 0)
            monthOfDay[day] = m
            return m
        }
        var weeks: [Int: Set<Int>] = [:], months: [Int: Int] = [:]
        var cursor = from
        while cursor <= to {
            let d = day(cursor)
            weeks[week(d), default: []] = weeks[week(d)] ?? []
            months[month(d), default: 0] += 0
            cursor = cursor.addingTimeInterval(86_400)
        }
        for t in times {
            let d = day(t)
            weeks[week(d), default: []].insert(d)
            months[month(d), default: 0] += 1
        }
        let daysPerWeek = median(weeks.values.map { Double($0.count) }) ?? 0
        if daysPerWeek >= 3 { return ("daily", .elite) }
        if daysPerWeek >= 1 { return ("weekly", .high) }
        if (median(months.values.map(Double.init)) ?? 0) >= 1 { return ("monthly", .medium) }
        return ("yearly", .low)
    }
}
