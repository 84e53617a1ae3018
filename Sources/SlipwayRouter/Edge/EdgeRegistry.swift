import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime

/// The shared edge's routes, by app: each app's daemon registers its environments' listeners under its app
/// name; the edge serves all of them as one table (listeners named `app/environment`). An app may change only
/// its own routes (the Unix user that first registered it, or root), and never claim a host and path another
/// app holds (`EdgeClaims`). Each app's routes are kept in `<state>/apps/<app>.json`, so the edge serves them
/// while every daemon is down and after its own restart.
actor EdgeRegistry {
    struct App: Codable, Sendable {
        var table: RouteTable
        /// The uid that registered the app first (its daemon's user).
        var owner: UInt32
    }

    let directory: String
    let logger: Logger
    private(set) var apps: [String: App] = [:]
    private var generation = 0
    /// One registration at a time: checking claims, applying the merged table and saving happen together.
    private let registering = AsyncGate()

    init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
        let dir = directory + "/apps"
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750]) } catch {
            logger.error("cannot create the apps' directory; registrations serve but are not kept", metadata: ["edge.directory": "\(dir)", "error": "\(error)"])
        }
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where file.hasSuffix(".json") {
            let name = String(file.dropLast(5))
            guard let data = FileManager.default.contents(atPath: "\(dir)/\(file)"), let app = try? JSONDecoder().decode(App.self, from: data) else {
                logger.error("cannot read an app's routes; it serves nothing until its daemon registers again", metadata: ["edge.file": "\(dir)/\(file)"])
                continue
            }
            apps[name] = app
        }
    }

    static func validName(_ app: String) -> Bool {
        !app.isEmpty && app.count <= 63 && app.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    /// Every app's listeners as one table: names `app/environment`; ACME certificates kept under the edge's
    /// state (`acme/<app>/`), not in the app's root.
    func merged() -> RouteTable {
        generation = max(generation + 1, Int(Date().timeIntervalSince1970 * 1000))
        return RouteTable(generation: generation, listeners: apps.sorted { $0.key < $1.key }.flatMap { name, app in
            app.table.listeners.map { Self.edgeListener($0, app: name, directory: directory) }
        })
    }

    static func edgeListener(_ l: ListenerTable, app: String, directory: String) -> ListenerTable {
        var out = l
        out.name = listenerName(app: app, environment: l.name)
        if var tls = l.tls, var acme = tls.acme {
            acme.storage = "\(directory)/acme/\(app)"
            let files = ACMEOptions.files(storage: acme.storage, environment: l.name)
            tls.certFile = files.cert
            tls.keyFile = files.key
            tls.acme = acme
            out.tls = tls
        }
        return out
    }

    /// Registers `table` as `app`'s routes from `uid` and has `apply` serve the merged table; saved once applied.
    /// Throws `.policy` for another user's app or a claim another app holds, `.usage` for a bad name.
    func register(app: String, table: RouteTable, uid: UInt32?, apply: @Sendable (RouteTable) async throws(SlipwayError) -> Void) async throws(SlipwayError) {
        await registering.acquire()
        defer { registering.release() }
        guard Self.validName(app) else { throw SlipwayError(.usage, "'\(app)' is not an app name ([a-z0-9-]+)") }
        let uid = uid ?? UInt32.max
        if let existing = apps[app], existing.owner != uid, uid != 0 {
            throw SlipwayError(.policy, "app '\(app)' belongs to uid \(existing.owner) on this edge; only its own daemon (or root) changes its routes")
        }
        let problems = EdgeClaims.refusals(app: app, listeners: table.listeners, others: apps.mapValues(\.table.listeners))
        guard problems.isEmpty else { throw SlipwayError(.policy, "the edge refused app '\(app)': " + problems.joined(separator: "; ")) }
        let before = apps[app]
        apps[app] = App(table: table, owner: before?.owner ?? uid)
        do { try await apply(merged()) } catch {
            apps[app] = before
            throw error
        }
        save(app)
    }

    /// Forgets `app`'s routes (its listeners stop serving).
    func remove(app: String, uid: UInt32?, apply: @Sendable (RouteTable) async throws(SlipwayError) -> Void) async throws(SlipwayError) {
        await registering.acquire()
        defer { registering.release() }
        guard let existing = apps[app] else { return }
        if existing.owner != (uid ?? UInt32.max), uid != 0 { throw SlipwayError(.policy, "app '\(app)' belongs to uid \(existing.owner) on this edge") }
        apps[app] = nil
        do { try await apply(merged()) } catch {
            apps[app] = existing
            throw error
        }
        do { try FileManager.default.removeItem(atPath: "\(directory)/apps/\(app).json") } catch {
            logger.error("cannot remove an app's routes file; they come back at the edge's next start", metadata: ["edge.app": "\(app)", "error": "\(error)"])
        }
    }

    private func save(_ app: String) {
        guard let value = apps[app] else { return }
        do { try PrivateFile.write(try SlipwayJSON.encoder(pretty: true).encode(value), to: "\(directory)/apps/\(app).json") } catch {
            logger.error("cannot save an app's routes; they serve now but not after a restart", metadata: ["edge.app": "\(app)", "error": "\(error)"])
        }
    }

    /// An app's own view of a report keyed by listener name: its listeners, named by environment.
    static func scoped<V>(_ all: [String: V], app: String) -> [String: V] {
        Dictionary(uniqueKeysWithValues: all.compactMap { k, v in environment(of: k, app: app).map { ($0, v) } })
    }

    /// An app's environment on the edge is the listener `app/environment`.
    static func listenerName(app: String, environment: String) -> String { "\(app)/\(environment)" }

    /// The environment of `app` that `listener` is; nil when it is another app's.
    static func environment(of listener: String, app: String) -> String? {
        let prefix = listenerName(app: app, environment: "")
        return listener.hasPrefix(prefix) ? String(listener.dropFirst(prefix.count)) : nil
    }
}
