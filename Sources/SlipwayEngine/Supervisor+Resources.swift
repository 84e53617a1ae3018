import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// What a release's instances use, from /proc, for the analysis rules (`memory`, `cpu`) and the
/// health probes they failed (`health_failures`).
public struct ReleaseResources: Sendable, Equatable {
    /// The largest resident set among the instances, in bytes.
    public var memoryBytes: Double?
    /// CPU use per instance, averaged, as a share of one core (since the previous reading).
    public var cpu: Double?
    /// Failed readiness and liveness probes of the instances since this daemon started.
    public var healthFailures: Int
    /// Per instance id: CPU share (when two readings exist) and resident bytes.
    public var perInstance: [Int64: (cpu: Double?, rss: Int64?)] = [:]

    public static func == (a: ReleaseResources, b: ReleaseResources) -> Bool {
        a.memoryBytes == b.memoryBytes && a.cpu == b.cpu && a.healthFailures == b.healthFailures
    }
}

extension Supervisor {
    /// Reads each instance's use (`perInstance`); the aggregates count only `release`'s instances (nil: all of them).
    public func resources(_ instances: [InstanceRecord], of release: String? = nil) -> ReleaseResources {
        let now = ContinuousClock.now
        var rss: [Double] = [], cpu: [Double] = [], failures = 0
        var each: [Int64: (cpu: Double?, rss: Int64?)] = [:]
        for i in instances {
            guard let id = i.id else { continue }
            let counted = release == nil || i.release == release
            if counted { failures += healthFailureCounts[id] ?? 0 }
            guard let stat = ProcessInspector.alive(pid: i.pid, startTime: UInt64(i.procStartTime)) else { continue }
            // A container's use is its cgroup's (the runtime client's own process is not the app).
            let used = containerCgroups[id]?.read()
            let bytes = used?.bytes ?? stat.residentBytes, seconds = used?.cpuSeconds ?? stat.cpuSeconds
            if counted { rss.append(Double(bytes)) }
            var share: Double?
            if let last = cpuReadings[id], last.pid == i.pid {
                let elapsed = (now - last.at).seconds
                if elapsed > 0.05 { share = max(0, seconds - last.cpu) / elapsed }
            }
            if counted, let share { cpu.append(share) }
            cpuReadings[id] = (i.pid, seconds, now)
            each[id] = (share, bytes)
        }
        var r = ReleaseResources(memoryBytes: rss.max(), cpu: cpu.isEmpty ? nil : cpu.reduce(0, +) / Double(cpu.count), healthFailures: failures)
        r.perInstance = each
        return r
    }
}

extension MetricSample {
    /// This sample with a release's resources and its memory limit (for `memory > 90%`).
    public func with(_ r: ReleaseResources, restarts: Int, memoryLimit: Int64?) -> MetricSample {
        var s = self
        s.memoryBytes = r.memoryBytes
        s.memoryLimit = memoryLimit.map(Double.init)
        s.cpu = r.cpu
        s.healthFailures = r.healthFailures
        s.restarts = restarts
        return s
    }
}
