import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Backups tied to releases: create, list, verify, restore, prune.",
        subcommands: [BackupCreate.self, BackupList.self, BackupVerify.self, BackupRestore.self, BackupPrune.self, BackupContinuous.self])
}

struct BackupCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Back up every source (or one) to every store; prints the backup id.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Option(help: "Only this source") var source: String?
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let info: BackupInfo = try await client.post("/v1/backups", BackupCreateRequest(environment: envOption.env, source: source, actor: DaemonClient.actor))
        if json { Output.json(info); return }
        print(info.id)
        FileHandle.standardError.write(Data("\(info.sources.joined(separator: ", ")): \(ByteFormat.bytes(info.size)) in \(info.durationMs) ms → \(info.locations.joined(separator: ", "))\n".utf8))
    }
}

struct BackupList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Backups, newest first, with their release, reason, size and where each copy is.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Flag(help: "First read every store's manifests: import backups the index lacks, update where copies are, forget those no store holds") var rescan = false
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        if rescan {
            let reports: [RescanReport] = try await client.post("/v1/backups/rescan", BackupRescanRequest(environment: envOption.env, actor: DaemonClient.actor))
            for r in reports {
                var line = "\(r.environment): imported \(r.imported.count), updated \(r.updated.count), forgot \(r.forgotten.count)"
                if !r.errors.isEmpty { line += "; could not read \(r.errors.joined(separator: "; ")) (nothing forgotten)" }
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        let list: [BackupInfo] = try await client.get(envOption.env.map { "/v1/backups?env=\($0)" } ?? "/v1/backups")
        if json { Output.json(list); return }
        var rows: [[String]] = []
        for b in list {
            let release: String = b.releaseVersion ?? "-"
            let commit: String = b.gitCommit.map { String($0.prefix(8)) } ?? "-"
            var reason: String = b.reason
            if let next = b.beforeDeployOf { reason += " of \(next)" }
            let verified: String = b.verifyOk.map { $0 ? "ok" : "FAILED" } ?? "-"
            rows.append([b.id, Output.time(b.createdAt), release, commit, reason, ByteFormat.bytes(b.size), verified, b.locations.joined(separator: " ")])
        }
        Output.table(["ID", "CREATED", "RELEASE", "COMMIT", "REASON", "SIZE", "VERIFIED", "STORES"], rows)
    }
}

struct BackupVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check every file's sha256 in every store; --restore-test also restores into scratch and checks integrity and row counts. Exits 1 when any check fails.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "Backup id") var id: String?
    @Flag(help: "Verify every backup") var all = false
    @Flag(help: "Restore into scratch and check integrity and row counts") var restoreTest = false
    @Flag(help: "Check the continuous archives (backup.continuous) instead: each generation's or base's chain, without a gap") var continuous = false
    @Flag(help: "Print JSON") var json = false

    func validate() throws {
        if continuous {
            if id != nil || all || restoreTest { throw ValidationError("--continuous checks the archives; it takes no backup ID, --all or --restore-test") }
            return
        }
        if (id == nil) == !all { throw ValidationError("name a backup ID or pass --all (or --continuous)") }
    }

    func run() async throws {
        let client = try global.client()
        let reports: [VerifyReport] = try await client.post("/v1/backups/verify",
                                                            BackupVerifyRequest(environment: envOption.env, id: id, restoreTest: restoreTest,
                                                                                                continuous: continuous ? true : nil, actor: DaemonClient.actor))
        if json { Output.json(reports) } else {
            for r in reports {
                print("\(r.id): \(r.ok ? "ok" : "FAILED")")
                for f in r.files { print("  \(f.ok ? "ok  " : "BAD ") \(f.location) \(f.file): \(f.detail)") }
                for t in r.restores { print("  \(t.ok ? "ok  " : "BAD ") restore test \(t.source): \(t.detail)") }
            }
        }
        if reports.contains(where: { !$0.ok }) { throw SlipwayError.failed("verification failed") }
    }
}

struct BackupRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup, or the continuous archive's --latest, --to-time or --before-deployment point, in place (asks first; --yes for scripts) or elsewhere with --to PATH|URL.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Backup id (or --latest / --to-time / --before-deployment)") var id: String?
    @Option(help: "With --latest, --to-time or --before-deployment: the environment") var env: String?
    @Flag(help: "From the continuous archive (backup.continuous): everything archived") var latest = false
    @Option(help: "From the continuous archive: the data as it was at this time (e.g. 2026-12-06T10:15:02Z)") var toTime: String?
    @Option(help: "From the continuous archive: the data as it was just before deployment N began migrating (or began)") var beforeDeployment: Int64?
    @Option(help: "Only this source") var source: String?
    @Option(help: "Restore to this path (sqlite, directory) or database URL (postgres, mysql) instead of in place") var to: String?
    @Flag(help: "Do not ask for confirmation") var yes = false
    @Flag(help: "Print the plan (what is lost, what is kept) and change nothing") var dryRun = false
    @Flag(help: "Print JSON") var json = false

    func validate() throws {
        guard [id != nil, latest, toTime != nil, beforeDeployment != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of a backup id, --latest, --to-time TIME or --before-deployment N")
        }
        if env != nil, id != nil { throw ValidationError("--env is for --latest, --to-time and --before-deployment (a backup id names its environment)") }
    }

    func run() async throws {
        let client = try global.client()
        let point = latest ? "latest" : toTime
        let body = BackupRestoreBody(id: id ?? "", source: source, to: to, point: point, environment: env, beforeDeployment: beforeDeployment)
        // The plan first: what goes back, what is lost, what is kept.
        let plan: RestorePlan = try await client.post("/v1/backups/restore/plan", BackupRestoreRequest(body, actor: DaemonClient.actor))
        if dryRun {
            if json { Output.json(plan) } else { plan.lines.forEach { print($0) } }
            return
        }
        if !json { plan.lines.forEach { print($0) } }
        if to == nil, !yes {
            guard isatty(0) != 0 else { throw SlipwayError.usage("an in-place restore overwrites live data; pass --yes to confirm (or --to PATH|URL, or --dry-run)") }
            print("Restore over the live data as planned? [y/N] ", terminator: "")
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { throw SlipwayError.policy("not confirmed; nothing changed") }
        }
        let report: RestoreReport = try await client.post("/v1/backups/restore", BackupRestoreRequest(body, actor: DaemonClient.actor))
        if json { Output.json(report); return }
        print("restored \(report.sources.joined(separator: ", ")) from \(report.id) → \(report.target) in \(report.durationMs) ms")
    }
}

struct BackupContinuous: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "continuous", abstract: "Each continuously archived source: its generation (SQLite) or server (PostgreSQL), the newest change shipped, the lag, the WAL its slot keeps.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let list: [ContinuousStatus] = try await global.client().get("/v1/backups/continuous")
        if json { Output.json(list); return }
        Output.table(["ENV", "SOURCE", "GENERATION", "SHIPPED", "LAG", "RETAINED", "STATE"], list.map { c in
            [c.environment, c.source, c.generation ?? "-", c.lastShipped.map(Output.time) ?? "-",
             c.lagSeconds.map { String(format: "%.1fs", $0) } ?? "-", c.retainedBytes.map { ByteFormat.bytes($0) } ?? "-", c.error ?? "archiving"]
        })
    }
}

struct BackupPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Apply backup.retention: print what is kept and removed, and why.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Flag(help: "Only explain; remove nothing") var dryRun = false
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let reports: [PruneReport] = try await client.post("/v1/backups/prune", BackupPruneRequest(environment: envOption.env, dryRun: dryRun, actor: DaemonClient.actor))
        if json { Output.json(reports); return }
        for r in reports {
            print("\(r.environment):\(r.dryRun ? " (dry run)" : "")")
            for d in r.decisions {
                let verb: String = d.keep ? "keep  " : (r.dryRun ? "would remove" : "remove")
                print("  \(verb) \(d.id)  \(d.reasons.joined(separator: "; "))")
            }
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what a release's migrations would do (migrate.dry_run).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Flag(help: "Run migrate.dry_run (the only mode; migrations themselves run during deploys)") var dryRun = false
    @Option(help: "Release (default: the newest)") var version: String?
    @Flag(help: "Print JSON") var json = false

    func validate() throws {
        if !dryRun { throw ValidationError("migrations run as part of 'slipway deploy'; pass --dry-run to preview them") }
    }

    func run() async throws {
        let client = try global.client()
        var q: [String] = []
        if let e = envOption.env { q.append("env=\(e)") }
        if let v = version { q.append("version=\(v)") }
        let r: MigrateDryRunResult = try await client.get("/v1/migrate/dry-run" + (q.isEmpty ? "" : "?" + q.joined(separator: "&")))
        if json { Output.json(r) } else { print(r.output, terminator: "") }
        if r.status != 0 { throw SlipwayError.failed("'\(r.command)' exited with status \(r.status) in release \(r.release)") }
    }
}

