import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// `slipway maintenance on|pause|resume|off`: the mode on the environment's record and its audit entry
/// (one transaction, under the environment's lease), the table pushed so the router answers the page or
/// holds requests at once, the event. A data rollback's hold (`holdForDataRollback`) uses the same record
/// field and `record`.
public struct Maintenance: Sendable, FeatureObject {
    let context: EngineContext
    let routing: Routing

    /// Applies `request`; the environment's name.
    func apply(_ request: MaintenanceRequest) async throws(SlipwayError) -> String {
        let cfg = try await context.reloadConfig()
        let env = try cfg.environment(request.environment)
        try await context.withLease(env.name, holder: "maintenance \(request.action.rawValue) by \(request.actor)", actor: request.by) {
            () async throws -> Void in
            try await apply(request, cfg: cfg, env: env)
        }
        return env.name
    }

    private func apply(_ request: MaintenanceRequest, cfg: SlipwayConfig, env: EnvironmentConfig) async throws(SlipwayError) {
        let before = try store.environment(env.name).maintenance
        let now = Int64(Date().timeIntervalSince1970)
        let mode: MaintenanceMode?
        let detail: String
        switch request.action {
        case .on:
            let html = try maintenancePage(request, directory: cfg.directory, current: before)
            let retry = try seconds(request.retryAfter, flag: "--retry-after", default: before?.retryAfterS ?? 60)
            mode = MaintenanceMode(mode: .on, html: html, retryAfterS: retry, holdLimitMs: before?.holdLimitMs ?? 30_000, since: now,
                                   actor: request.actor)
            detail = "503 page, Retry-After \(retry)s"
        case .pause:
            let limit = try seconds(request.limit, flag: "--limit", default: Int((before?.holdLimitMs ?? 30_000) / 1000))
            guard (1...600).contains(limit) else { throw .usage("--limit must be from 1s to 10m: requests are held in memory") }
            let html = try maintenancePage(request, directory: cfg.directory, current: before)
            let retry = try seconds(request.retryAfter, flag: "--retry-after", default: before?.retryAfterS ?? 60)
            mode = MaintenanceMode(mode: .paused, html: html, retryAfterS: retry, holdLimitMs: Int64(limit) * 1000, since: now,
                                   actor: request.actor)
            detail = "new requests held for up to \(limit)s"
        case .resume:
            guard before?.mode == .paused else { throw .usage("'\(env.name)' is not paused; slipway maintenance pause holds requests") }
            mode = nil
            detail = "held requests released"
        case .off:
            mode = nil
            detail = before == nil ? "was not in maintenance" : "traffic flows again"
        }
        // The mode and its audit entry in one transaction, before the router acts on it.
        let action = "maintenance.\(request.action.rawValue)"
        try store.environments.setMaintenance(mode, environment: env.name, audit: AuditNote(request.by, action: action, outcome: "ok", detail: detail,
                                                                                before: before.map { "maintenance (\($0.mode.rawValue))" } ?? "serving",
                                                                                after: mode.map { "maintenance (\($0.mode.rawValue))" } ?? "serving"))
        do {
            try await routing.push()
        } catch {
            try store.environments.setMaintenance(before, environment: env.name, audit: AuditNote(request.by, action: action, outcome: "failed", detail: error.message))
            throw error
        }
        record(env.name, mode, detail: detail)
        logger.info("maintenance \(request.action.rawValue)", metadata: ["maintenance.env": "\(env.name)", "maintenance.detail": "\(detail)"])
    }

    /// The event of a change of mode (the operator's, or a data rollback's hold).
    func record(_ environment: String, _ mode: MaintenanceMode?, detail: String) {
        store.record(Event(environment: environment, payload: .maintenance(.init(mode: mode?.mode, detail: detail))), orLog: logger)
    }

    /// The page to serve: `--page FILE`, else `--message`, else the page already set, else a default.
    private func maintenancePage(_ request: MaintenanceRequest, directory: String, current: MaintenanceMode?) throws(SlipwayError) -> String {
        if let page = request.page {
            let path = page.hasPrefix("/") ? page : directory + "/" + page
            guard let data = FileManager.default.contents(atPath: path), let html = String(data: data, encoding: .utf8) else {
                throw .usage("--page: cannot read \(path) as UTF-8 text")
            }
            guard data.count <= 1 << 20 else { throw .usage("--page: \(path) is over 1 MiB; the router keeps the page in memory") }
            return html
        }
        if let message = request.message { return MaintenanceMode.page(message: message) }
        return current?.html ?? MaintenanceMode.page(message: "We are making things better and will be back shortly.")
    }

    private func seconds(_ text: String?, flag: String, default value: Int) throws(SlipwayError) -> Int {
        guard let text else { return value }
        guard let d = DurationParsing.parse(text), d >= .seconds(1) else { throw .usage("\(flag): expected a duration like 30s or 5m, got '\(text)'") }
        return Int(d.components.seconds)
    }
}

