import SlipwayCore
import Synchronization

/// The configuration every feature reads: `slipway.yml` as last loaded. The engine replaces it whole when a
/// reload succeeds, so a reader sees the old file or the new one, never a mix.
public final class ConfigSource: Sendable {
    private let value: Mutex<SlipwayConfig>

    init(_ config: SlipwayConfig) { value = Mutex(config) }

    public var current: SlipwayConfig { value.withLock { $0 } }

    func replace(with config: SlipwayConfig) { value.withLock { $0 = config } }
}
