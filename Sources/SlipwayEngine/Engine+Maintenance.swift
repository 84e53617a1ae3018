import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension Engine {
    /// `slipway maintenance on|pause|resume|off`: records the mode on the environment, pushes the table
    /// (the router answers the page or holds requests at once), and audits it.
    public func maintenance(_ request: MaintenanceRequest) async throws(SlipwayError) -> EnvironmentStatus {
        let cfg = try await reloadConfig()
        let env = try cfg.environment(request.environment)
        return try await context.withLease(env.name, holder: "maintenance \(request.action.rawValue) by \(request.actor)", actor: request.by) {
            () async throws -> EnvironmentStatus in
            try await maintenance(request, cfg: cfg, env: env)
        }
    }

    private func maintenance(_ request: MaintenanceRequest, cfg: SlipwayConfig, env: EnvironmentConfig) async throws(SlipwayError) -> EnvironmentStatus {
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
        try store.setMaintenance(mode, environment: env.name, audit: AuditNote(request.by, action: action, outcome: "ok", detail: detail,
                                                                                before: before.map { "maintenance (\($0.mode.rawValue))" } ?? "serving",
                                                                                after: mode.map { "maintenance (\($0.mode.rawValue))" } ?? "serving"))
        do {
            try await pushTable()
        } catch {
            try store.setMaintenance(before, environment: env.name, audit: AuditNote(request.by, action: action, outcome: "failed", detail: error.message))
            throw error
        }
        recordMaintenance(env.name, mode, detail: detail)
        logger.info("maintenance \(request.action.rawValue)", metadata: ["maintenance.env": "\(env.name)", "maintenance.detail": "\(detail)"])
        guard let status = try await status(environment: env.name).first else { throw .notFound("no environment \(env.name)") }
        return status
    }

    /// The page to serve: `--page FILE`, else `--message`, else the page already set, else a default.
    func maintenancePage(_ request: MaintenanceRequest, directory: String, current: MaintenanceMode?) throws(SlipwayError) -> String {
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

    func seconds(_ text: String?, flag: String, default value: Int) throws(SlipwayError) -> Int {
        guard let text else { return value }
        guard let d = DurationParsing.parse(text), d >= .seconds(1) else { throw .usage("\(flag): expected a duration like 30s or 5m, got '\(text)'") }
        return Int(d.components.seconds)
    }
}

extension Engine {
    /// `rollback --with-data`: the router holds `env`'s new requests (maintenance `paused`, marked as this
    /// deployment's) from the start of the restore until the switch. Recorded and pushed before it returns.
    /// An operator's own maintenance mode (already answering the page, or already holding) is left as it is.
    func holdTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async throws(SlipwayError) {
        let hold = MaintenanceMode(mode: .paused, html: MaintenanceMode.page(message: "We are restoring data and will be back shortly."),
                                   retryAfterS: 30, holdLimitMs: DeploymentData.holdMs, since: Int64(Date().timeIntervalSince1970),
                                   actor: Self.holdActor(d))
        if let existing = try store.holdRequests(hold, environment: env.name) {
            note(d, "\(env.name) is in maintenance (\(existing.mode.rawValue)) already: no request reaches the data during the restore",
                 log: DeployLog(path: d.logFile))
            return
        }
        try await pushTable()
        recordMaintenance(env.name, hold, detail: "requests held while deployment \(d.id) restores data")
        note(d, "holding new requests to \(env.name) until the switch (each for up to \(DeploymentData.holdMs / 1000)s)", log: DeployLog(path: d.logFile))
    }

    /// Lifts a hold set by `holdTraffic` for `d` (after the rollback gave up); a switch lifts it itself.
    func releaseTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async {
        let lifted = logger.write("lift deployment \(d.id)'s hold on requests", to: store) { () throws(SlipwayError) in
            try store.releaseHold(environment: env.name, holder: Self.holdActor(d))
        }
        guard lifted == true else { return }
        await pushTableLogged()
        recordMaintenance(env.name, nil, detail: "held requests released: deployment \(d.id) did not finish")
    }

    /// The marker a data rollback's hold carries, so the switch lifts only its own.
    static func holdActor(_ d: DeploymentInfo) -> String { "slipway rollback \(d.id)" }

    func recordMaintenance(_ environment: String, _ mode: MaintenanceMode?, detail: String) {
        store.record(Event(environment: environment, payload: .maintenance(.init(mode: mode?.mode, detail: detail))), orLog: logger)
    }
}
