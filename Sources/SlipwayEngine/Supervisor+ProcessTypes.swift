import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Supervisor {
    /// Starts one process of a type other than web (`processes.NAME`) in its release's directory, as the type's user,
    /// with the type's `env` and `secrets` and Slipway's variables; PORT only for a routed type.
    func startWorker(app: String, env: EnvironmentConfig, type: ProcessTypeSettings, release: String, slot: Int) throws(SlipwayError) -> WorkerRecord {
        let dir = releases.path(release)
        guard FileManager.default.fileExists(atPath: dir) else { throw .notFound("release \(release) does not exist (slipway releases lists them)") }
        var record = WorkerRecord(environment: env.name, type: type.name, release: release, slot: slot, pid: 0, procStartTime: 0,
                                  logFile: "\(logsDirectory)/\(env.name)-\(release)-\(type.name)-\(slot).log")
        if type.route != nil { record.port = try PortAllocator.freePort() }
        var vars = try variables(app: app, env: env, settings: type.process, release: release, instance: record.name, port: record.port > 0 ? record.port : nil)
        vars["SLIPWAY_PROCESS_TYPE"] = type.name
        let child = try spawnRelease(type.process, key: "processes.\(type.name)", release: release, name: [env.name, release, type.name, String(slot)],
                                     environment: vars, logFile: record.logFile, stopSignal: type.stopSignal)
        confine(child.pid, environment: env.name, release: release, slot: slot, limit: type.process.memoryLimit, name: record.name)
        record.pid = child.pid
        record.procStartTime = Int64(child.startTime)
        return record
    }
}
