import Foundation
import Logging
import SlipwayCore

/// The state root on disk: created private (0750; secrets 0700), one `shared/<env>/` per environment,
/// and the one-time move of a root laid out by an earlier version (one `shared/` for every environment).
public enum RootLayout {
    /// Written once the root has the per-environment layout; its presence makes the migration run once.
    static let marker = ".layout-v2"

    public static func prepare(_ config: SlipwayConfig, logger: Logger? = nil) throws(SlipwayError) {
        let fm = FileManager.default
        for (dir, mode) in [(config.root, 0o750), (config.releasesDirectory, 0o750), (config.logsDirectory, 0o750),
                            (config.sharedRoot, 0o750), (config.secretsDirectory, 0o700)] {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw SlipwayError(.usage, "cannot create \(dir); check root in \(config.file)", cause: error)
            }
            chmod(dir, mode_t(mode))
        }
        try migrateShared(config, logger: logger)
        for name in config.environmentNames {
            let dir = config.sharedDirectory(name)
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw SlipwayError(.usage, "cannot create \(dir)", cause: error)
            }
        }
        // Secrets files hold credentials: owner only, whatever the editor that wrote them chose.
        for name in (try? fm.contentsOfDirectory(atPath: config.secretsDirectory)) ?? [] where name.hasSuffix(".env") {
            chmod("\(config.secretsDirectory)/\(name)", 0o600)
        }
        if fm.fileExists(atPath: config.root + "/secrets.env") { chmod(config.root + "/secrets.env", 0o600) }
    }

    /// An earlier version kept every environment's files directly in `<root>/shared/`. They move (rename,
    /// not copy) to the environment named `production`, or the only one; with several and neither, the
    /// daemon refuses to start and says how to split them. Each move is logged; an interrupted migration
    /// finishes on the next start.
    static func migrateShared(_ config: SlipwayConfig, logger: Logger?) throws(SlipwayError) {
        let fm = FileManager.default
        let markerPath = config.sharedRoot + "/" + marker
        guard !fm.fileExists(atPath: markerPath) else { return }
        let names = config.environmentNames
        let target = names.contains("production") ? "production" : (names.count == 1 ? names[0] : nil)
        // Directories already named after an environment are its data (made by hand, or by a migration cut short).
        let entries = ((try? fm.contentsOfDirectory(atPath: config.sharedRoot)) ?? []).filter { !names.contains($0) && $0 != marker }.sorted()
        if !entries.isEmpty {
            guard let target else {
                throw SlipwayError(.usage, """
                    \(config.sharedRoot) holds files from before environments had their own data (\(entries.prefix(5).joined(separator: ", "))\
                    \(entries.count > 5 ? ", …" : "")), and \(config.file) defines several environments, none named production \
                    (\(names.joined(separator: ", "))). Move each file into \(config.sharedRoot)/<environment>/ yourself, then \
                    create \(markerPath) (touch it) and start the daemon again
                    """)
            }
            let dest = config.sharedDirectory(target)
            do { try fm.createDirectory(atPath: dest, withIntermediateDirectories: true) } catch {
                throw SlipwayError(.failed, "cannot create \(dest)", cause: error)
            }
            for entry in entries {
                let from = "\(config.sharedRoot)/\(entry)", to = "\(dest)/\(entry)"
                guard !fm.fileExists(atPath: to) else {
                    throw SlipwayError(.usage, "cannot move \(from) to \(to): it exists already; move or merge it by hand, then start the daemon again")
                }
                guard rename(from, to) == 0 else {
                    throw SlipwayError(.failed, "cannot move \(from) to \(to)", cause: String(cString: strerror(errno)))
                }
                logger?.notice("moved shared data into its environment", metadata: ["layout.from": "\(from)", "layout.to": "\(to)"])
            }
            logger?.notice("instances started before the move keep their old SLIPWAY_SHARED until they restart",
                           metadata: ["layout.environment": "\(target)"])
        }
        guard fm.createFile(atPath: markerPath, contents: Data("per-environment shared/ and secrets/\n".utf8)) else {
            throw SlipwayError(.failed, "cannot write \(markerPath)")
        }
    }
}
