import Foundation
import SlipwayCore
import SlipwayRuntime

extension Supervisor {
    /// Starts the app's code (an instance, a migration, a drill's instance) as `process.user` with its limits,
    /// no new privileges and umask 027, through `slipway launch`. USER, LOGNAME and HOME are the user's, and the
    /// directory SLIPWAY_SHARED names becomes the user's: the one place the app may write.
    func spawnApp(_ env: EnvironmentConfig, argv: [String], directory: String, environment: [String: String],
                  logFile: String) throws(SlipwayError) -> ProcessSpawner.Spawned {
        try spawnConfined(env.process.privileges, key: "process", argv: argv, directory: directory, environment: environment, logFile: logFile)
    }

    /// Starts `argv` with `privileges` (those of `key` in the config: `process`, or `accessories.NAME`).
    func spawnConfined(_ privileges: ProcessPrivileges, key: String, argv: [String], directory: String, environment: [String: String],
                       logFile: String) throws(SlipwayError) -> ProcessSpawner.Spawned {
        let confinement = try Confinement.resolve(privileges, key: key)
        var vars = environment
        if let uid = confinement.uid {
            if let name = confinement.userName {
                vars["USER"] = name
                vars["LOGNAME"] = name
            }
            if let home = confinement.home { vars["HOME"] = home }
            // The root, releases/ and shared/ (0750) become 0751: the user passes through them to its release, which
            // it reads, and to its shared directory, but lists none of them.
            let root = (sharedRoot as NSString).deletingLastPathComponent
            for dir in [root, releases.directory, sharedRoot] { try Self.searchable(dir) }
            if let shared = vars["SLIPWAY_SHARED"] { try Self.give(shared, uid: uid, gid: confinement.gid ?? uid) }
        }
        return try ProcessSpawner.spawn(argv: argv, directory: directory, environment: vars, logFile: logFile, confinement: confinement, launcher: launcher)
    }

    /// Adds o+x to `directory`'s mode, if it lacks it.
    static func searchable(_ directory: String) throws(SlipwayError) {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: directory))?[.posixPermissions] as? NSNumber, mode.uint16Value & 0o001 == 0 else { return }
        guard chmod(directory, mode_t(mode.uint16Value | 0o001)) == 0 else {
            throw SlipwayError(.internal, "cannot let process.user through \(directory) (chmod o+x)", cause: String(cString: strerror(errno)))
        }
    }

    /// Makes `directory` (created if missing, 0750) and everything in it owned by `uid:gid`; only what another
    /// user owns is changed (what a restore wrote as the daemon's user, or everything once, when `user:` is new).
    static func give(_ directory: String, uid: UInt32, gid: UInt32) throws(SlipwayError) {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw SlipwayError(.internal, "cannot create the shared directory \(directory)", cause: error)
        }
        func own(_ path: String) throws(SlipwayError) {
            guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return }
            guard (a[.ownerAccountID] as? NSNumber)?.uint32Value != uid || (a[.groupOwnerAccountID] as? NSNumber)?.uint32Value != gid else { return }
            guard lchown(path, uid_t(uid), gid_t(gid)) == 0 else {
                throw SlipwayError(.internal, "cannot give \(path) to uid \(uid) (process.user)", cause: String(cString: strerror(errno)))
            }
        }
        try own(directory)
        guard chmod(directory, 0o750) == 0 else {
            throw SlipwayError(.internal, "cannot make \(directory) 0750 (process.user)", cause: String(cString: strerror(errno)))
        }
        guard let walk = FileManager.default.enumerator(atPath: directory) else { return }
        for case let name as String in walk { try own(directory + "/" + name) }
    }
}
