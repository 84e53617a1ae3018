import Foundation
import SlipwayCore
import SlipwayRuntime

/// How archives are compressed: zstd (multi-threaded, fast) when the `zstd` program is installed,
/// gzip otherwise; both run as pipeline stages so data streams and is never held whole in memory.
public enum Codec: String, Sendable, CaseIterable {
    case zstd
    case gzip
    case none

    /// The best codec this machine has.
    public static var preferred: Codec { Tools.find("zstd") != nil ? .zstd : .gzip }

    public var fileExtension: String {
        switch self {
        case .zstd: ".zst"
        case .gzip: ".gz"
        case .none: ""
        }
    }

    /// A stage that compresses stdin to stdout (nil for `none`).
    public var compressStage: ProcessPipeline.Stage? {
        switch self {
        case .zstd: .init(["zstd", "-q", "-3", "-T0", "-c"])
        case .gzip: .init(["gzip", "-1", "-c"])
        case .none: nil
        }
    }

    /// A stage that decompresses stdin to stdout (nil for `none`).
    public var decompressStage: ProcessPipeline.Stage? {
        switch self {
        case .zstd: .init(["zstd", "-q", "-d", "-c"])
        case .gzip: .init(["gzip", "-d", "-c"])
        case .none: nil
        }
    }

    /// The stages that turn an archive stored with this codec back into plain bytes (none for `none`:
    /// the archive itself is the next stage's input).
    public var decompressStages: [ProcessPipeline.Stage] { decompressStage.map { [$0] } ?? [] }
}

/// External programs Slipway drives, found on PATH (with the PostgreSQL server directories as a fallback).
public enum Tools {
    public static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"].map { $0 + ":" } ?? "") + "/usr/local/bin:/usr/bin:/bin"
        return ProcessSpawner.which(name, path: path)
    }

    /// The first of `names` that is installed, or an error saying what to install.
    public static func require(_ names: [String], package: String) throws(SlipwayError) -> String {
        for n in names { if let p = find(n) { return p } }
        throw SlipwayError(.unavailable, "\(names.joined(separator: " or ")) is not installed; install \(package) (e.g. apt-get install \(package))")
    }

    /// What `program --version` prints (first line), for manifests.
    public static func version(_ program: String, log: String) async -> String {
        guard let text = try? await ProcessPipeline([.init([program, "--version"])], logFile: log).capture() else { return program }
        return text.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? program
    }
}
