import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Reports {
    /// Everything `/metrics` shows, read now: deployments, router traffic per environment and release,
    /// instances with their CPU and memory, backups, drills, alerts, incidents, notifications and DORA.
    public func metricsText(now: Date = Date()) async -> String {
        let cfg = config
        let stats = try? await router.stats()
        var p = PrometheusText()
        let deployments = (try? store.deployments(environment: nil, limit: 100_000)) ?? []
        var byOutcome: [String: Int] = [:]
        var durations: [String: [Double]] = [:]
        for d in deployments where d.state.isTerminal {
            byOutcome["\(d.environment)\u{1F}\(d.kind.rawValue)\u{1F}\(d.state.rawValue)", default: 0] += 1
            if let end = d.finishedAt { durations["\(d.environment)\u{1F}\(d.kind.rawValue)", default: []].append(end.timeIntervalSince(d.startedAt)) }
        }
        p.family("slipway_deployments_total", "counter", "Deployments and rollbacks that ended, by outcome.", byOutcome.sorted { $0.key < $1.key }.map { key, n in
            let k = key.split(separator: "\u{1F}").map(String.init)
            return ([("environment", k[0]), ("kind", k[1]), ("outcome", k[2])], Double(n))
        })
        p.family("slipway_store_write_failures_total", "counter", "Audit entries, events and records the state database could not write.",
                 [([], Double(store.writeFailures))])
        p.histogram("slipway_deployment_duration_seconds", "How long deployments and rollbacks took, start to end.", buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800],
                    durations.sorted { $0.key < $1.key }.map { key, values in
                        let k = key.split(separator: "\u{1F}").map(String.init)
                        return ([("environment", k[0]), ("kind", k[1])], values)
                    })
        var requests: [(PrometheusText.Labels, Double)] = [], responses: [(PrometheusText.Labels, Double)] = []
        for (env, pools) in (stats ?? [:]).sorted(by: { $0.key < $1.key }) where cfg.environments[env] != nil {
            for (release, s) in pools.sorted(by: { $0.key < $1.key }) {
                requests.append(([("environment", env), ("release", release)], Double(s.requests)))
                for (cls, n) in [("2xx", s.responses2xx), ("3xx", s.responses3xx), ("4xx", s.responses4xx), ("5xx", s.responses5xx)] {
                    responses.append(([("environment", env), ("release", release), ("class", cls)], Double(n)))
                }
            }
        }
        p.family("slipway_requests_total", "counter", "Requests the router sent to each release.", requests)
        p.family("slipway_responses_total", "counter", "Responses the router returned, by status class.", responses)
        let instances = (try? store.instances()) ?? []
        var states: [String: Int] = [:]
        var cpu: [(PrometheusText.Labels, Double)] = [], rss: [(PrometheusText.Labels, Double)] = []
        for i in instances where i.state != .stopped {
            states["\(i.environment)\u{1F}\(i.release)\u{1F}\(i.state.rawValue)", default: 0] += 1
            let labels: PrometheusText.Labels = [("environment", i.environment), ("release", i.release), ("slot", String(i.slot))]
            guard let stat = ProcessInspector.alive(pid: i.pid, startTime: UInt64(i.procStartTime)) else { continue }
            cpu.append((labels, stat.cpuSeconds))
            rss.append((labels, Double(stat.residentBytes)))
        }
        p.family("slipway_instances", "gauge", "Instances by state.", states.sorted { $0.key < $1.key }.map { key, n in
            let k = key.split(separator: "\u{1F}").map(String.init)
            return ([("environment", k[0]), ("release", k[1]), ("state", k[2])], Double(n))
        })
        // The unrouted and routed process types beside web: how many processes run (or wait for their back-off), and restarts.
        var processes: [String: Int] = [:]
        var restarts: [(PrometheusText.Labels, Double)] = []
        for w in (try? store.workers.all()) ?? [] {
            let state = w.state == .stopping ? "stopping" : (ProcessTypes.running(w) ? "running" : "crashed")
            processes["\(w.environment)\u{1F}\(w.type)\u{1F}\(w.release)\u{1F}\(state)", default: 0] += 1
            restarts.append(([("environment", w.environment), ("type", w.type), ("release", w.release), ("slot", String(w.slot))], Double(w.restarts)))
        }
        p.family("slipway_processes", "gauge", "Processes of each process type other than web, by state.", processes.sorted { $0.key < $1.key }.map { key, n in
            let k = key.split(separator: "\u{1F}").map(String.init)
            return ([("environment", k[0]), ("type", k[1]), ("release", k[2]), ("state", k[3])], Double(n))
        })
        p.family("slipway_process_restarts", "gauge", "Restarts of each process of a type other than web since it was first started.", restarts)
        p.family("slipway_instance_cpu_seconds_total", "counter", "CPU time used by each live instance (from /proc).", cpu)
        p.family("slipway_instance_resident_memory_bytes", "gauge", "Resident memory of each live instance (from /proc).", rss)
        var backupCount: [(PrometheusText.Labels, Double)] = [], backupAge: [(PrometheusText.Labels, Double)] = [], rto: [(PrometheusText.Labels, Double)] = []
        for name in cfg.environmentNames where cfg.environments[name]?.backup != nil {
            let summary = (try? store.data.backupSummary(environment: name)) ?? (count: 0, newest: nil)
            backupCount.append(([("environment", name)], Double(summary.count)))
            if let newest = summary.newest { backupAge.append(([("environment", name)], now.timeIntervalSince(newest))) }
            if let drill = (try? store.data.drills(environment: name, limit: 1))?.first { rto.append(([("environment", name), ("ok", drill.ok ? "true" : "false")], Double(drill.rtoMs) / 1000)) }
        }
        p.family("slipway_backups", "gauge", "Backups kept.", backupCount)
        p.family("slipway_backup_age_seconds", "gauge", "Age of the newest backup.", backupAge)
        p.family("slipway_drill_rto_seconds", "gauge", "Restore time measured by the last drill.", rto)
        // Only when some environment serves HTTPS (the router is not asked otherwise).
        if cfg.environments.values.contains(where: { $0.router.tls != nil }), let certs = try? await router.certificates() {
            p.family("slipway_certificate_expiry_seconds", "gauge", "Seconds until the served certificate's notAfter, per host.",
                     certs.flatMap { c in c.shownHosts.compactMap { host in c.notAfter.map { ([("environment", c.environment), ("host", host)], $0.timeIntervalSince(now)) } } })
        }
        let alertStates = ((try? store.signals.alertStates()) ?? [:]).values
        p.family("slipway_alerts_firing", "gauge", "Alerts firing, by severity.", Severity.allCases.map { sev in
            ([("severity", sev.rawValue)], Double(alertStates.filter { $0.info.state == .firing && $0.info.severity == sev }.count))
        })
        let open = (try? store.signals.incidents(openOnly: true)) ?? []
        p.family("slipway_incidents_open", "gauge", "Incidents investigating or mitigated, by severity.", Severity.allCases.map { sev in
            ([("severity", sev.rawValue)], Double(open.filter { $0.severity == sev }.count))
        })
        let outbox = (try? store.signals.notificationCounts()) ?? [:]
        p.family("slipway_notifications", "gauge", "Notifications in the outbox, by state.", ["pending", "sent", "failed"].map { ([("state", $0)], Double(outbox[$0] ?? 0)) })
        var dora: [String: [(PrometheusText.Labels, Double)]] = [:]
        // The deployments read above, and one read of the incidents and the releases' commit times for every environment.
        let incidents = (try? store.signals.incidents(limit: 100_000)) ?? []
        let commits = commitTimes()
        for name in cfg.environmentNames {
            let r = DORAReport.compute(environment: name, deployments: deployments, incidents: incidents, commitTimes: commits,
                                       from: now.addingTimeInterval(-30 * 86_400), to: now)
            let l: PrometheusText.Labels = [("environment", name)]
            for (metric, value) in [("deployment_frequency_per_day", r.deploymentFrequency.value), ("lead_time_seconds", r.leadTime.value),
                                    ("change_failure_ratio", r.changeFailureRate.value), ("recovery_time_seconds", r.recoveryTime.value),
                                    ("rework_ratio", r.reworkRate.value)] {
                if let value { dora[metric, default: []].append((l, value)) }
            }
        }
        for metric in ["deployment_frequency_per_day", "lead_time_seconds", "change_failure_ratio", "recovery_time_seconds", "rework_ratio"] {
            p.family("slipway_dora_\(metric)", "gauge", "DORA over the last 30 days (slipway report).", dora[metric] ?? [])
        }
        return p.text
    }
}
