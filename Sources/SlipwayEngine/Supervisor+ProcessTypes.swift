import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Supervisor {
    /// Starts one process of an unrouted type (`processes.NAME`) in its release's directory, as the type's user,
    /// with the type's `env` and `secrets`, Slipway's variables, and no PORT (nothing routes to it).
    func startWorker(app: String, env: EnvironmentConfig, type: ProcessTypeSettings, release: String, slot: Int) throws(SlipwayError) -> WorkerRecord {
        let dir = releases.path(release)
        guard FileManager.default.fileExists(atPath: dir) else { throw .notFound("release \(release) does not exist (slipway releases lists them)") }
        var record = WorkerRecord(environment: env.name, type: type.name, release: release, slot: slot, pid: 0, procStartTime: 0,
                                  logFile: "\(logsDirectory)/\(env.name)-\(release)-\(type.name)-\(slot).log")
        var vars = Self.daemonVariables()
        for (k, v) in type.process.env { vars[k] = v }
        for (k, v) in try secrets.resolve(type.process.secrets, environment: env.name) { vars[k] = v }
        vars["SLIPWAY_APP"] = app
        vars["SLIPWAY_ENV"] = env.name
        vars["SLIPWAY_RELEASE"] = release
        vars["SLIPWAY_PROCESS_TYPE"] = type.name
        vars["SLIPWAY_INSTANCE"] = record.name
        vars["SLIPWAY_SHARED"] = sharedRoot + "/" + env.name
        if type.route != nil {
            record.port = try PortAllocator.freePort()
            vars["PORT"] = String(record.port)
        }
        let child = try spawnRelease(type.process, key: "processes.\(type.name)", release: release, name: [env.name, release, type.name, String(slot)],
                                     environment: vars, logFile: record.logFile, stopSignal: type.stopSignal)
        confine(child.pid, environment: env.name, release: release, slot: slot, limit: type.process.memoryLimit, name: record.name)
        record.pid = child.pid
        record.procStartTime = Int64(child.startTime)
        return record
    }
}
