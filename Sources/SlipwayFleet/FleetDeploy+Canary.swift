import Foundation
import SlipwayCore

/// `fleet.strategy: canary`: the first `canary.hosts` switch alone, then their routers' traffic on the new release is
/// judged against the other hosts' traffic on theirs for `canary.analysis`, by the sequential error-rate test a
/// canary's `error_rate` rule uses (`ErrorRateTest`, the environment's rule or `baseline + 2%`). A failure reverts the
/// canary hosts and leaves the others untouched; a pass promotes the rest, batch by batch.
extension FleetDeploy {
    /// Each host's counts now (hosts that do not answer count nothing).
    func traffic(_ hosts: [any FleetHost], _ indices: [Int]) async -> [Int: [String: RequestCounts]] {
        let read = await concurrently(indices, limit: maxParallel) { [app, environment] i async -> [String: RequestCounts] in
            (try? await hosts[i].traffic(app: app, environment: environment)) ?? [:]
        }
        return Dictionary(uniqueKeysWithValues: zip(indices, read))
    }

    /// Judges the canary hosts until `canaryAnalysis` has passed; nil when they pass, else why they failed.
    /// `releases`: what each other host serves (its baseline's release); `base`: everyone's counts before the switch.
    func judgeCanary(_ hosts: [any FleetHost], canary: [Int], others: [Int], releases: [Int: String], base: [Int: [String: RequestCounts]]) async -> String? {
        var test = ErrorRateTest(threshold: canaryThreshold)
        let end = ContinuousClock.now + settings.canaryAnalysis
        func since(_ now: RequestCounts?, _ then: RequestCounts?) -> RequestCounts {
            let n = now ?? RequestCounts(), b = then ?? RequestCounts()
            guard n.requests >= b.requests, n.errors >= b.errors else { return n }  // a router restarted: count from zero
            return RequestCounts(requests: n.requests - b.requests, errors: n.errors - b.errors)
        }
        while ContinuousClock.now < end {
            try? await Task.sleep(for: canaryInterval)
            let now = await traffic(hosts, canary + others)
            var c = RequestCounts(), b = RequestCounts()
            for i in canary {
                let d = since(now[i]?[version], base[i]?[version])
                c.requests += d.requests
                c.errors += d.errors
            }
            for i in others {
                guard let release = releases[i] else { continue }
                let d = since(now[i]?[release], base[i]?[release])
                b.requests += d.requests
                b.errors += d.errors
            }
            if test.observe(canary: c, baseline: b) == .fail {
                func pct(_ r: RequestCounts) -> String { r.rate.map { String(format: "%.1f%%", $0 * 100) } ?? "no requests" }
                return "the canary hosts failed \(pct(c)) of \(c.requests) requests, the others \(pct(b)) of \(b.requests) (error_rate > \(canaryRule))"
            }
        }
        return nil
    }

    var canaryRule: String {
        switch canaryThreshold {
        case .absolute(let v): String(format: "%g%%", v * 100)
        case .baselinePlus(let q): String(format: "baseline + %g%%", q * 100)
        case .baselineTimes(let k): String(format: "%g * baseline", k)
        }
    }
}
