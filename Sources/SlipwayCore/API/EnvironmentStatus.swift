import Foundation

public struct EnvironmentStatus: Codable, Sendable {
    public var name: String
    public var currentRelease: String?
    public var previousRelease: String?
    public var listen: String
    public var strategy: DeployStrategy
    public var lock: LockInfo?
    public var instances: [InstanceInfo]
    public var maintenance: MaintenanceMode?
    /// Every secret the environment's configuration names and where its value comes from (never the value).
    public var secrets: [SecretInfo]
    /// The environment's own data directory (its instances' SLIPWAY_SHARED).
    public var shared: String?
    /// The post-deploy watch in progress.
    public var watch: WatchInfo?
    /// The canary in progress.
    public var canary: CanaryInfo?
    /// Free share of the filesystem holding the root.
    public var diskFree: Double?
    /// `process.memory_limit`, and how it is held: `enforced (cgroup v2 DIR)`, or `measured: WHY` (alerts and analysis only).
    public var memoryLimit: Int64?
    public var memoryLimitEnforcement: String?
    /// The environment's accessories (absent when it has none).
    public var accessories: [AccessoryInfo]?
    /// The unrouted process types (`processes:` other than web; absent when there are none).
    public var processes: [ProcessTypeInfo]?
    /// The continuous archives of its sources: the newest change shipped and the lag (absent when none is archived).
    public var continuous: [ContinuousStatus]?

    public init(name: String, currentRelease: String?, previousRelease: String?, listen: String,
                strategy: DeployStrategy, lock: LockInfo?, instances: [InstanceInfo], maintenance: MaintenanceMode? = nil,
                secrets: [SecretInfo] = [], shared: String? = nil, watch: WatchInfo? = nil) {
        self.watch = watch
        self.maintenance = maintenance
        self.secrets = secrets
        self.shared = shared
        self.name = name
        self.currentRelease = currentRelease
        self.previousRelease = previousRelease
        self.listen = listen
        self.strategy = strategy
        self.lock = lock
        self.instances = instances
    }

    enum CodingKeys: String, CodingKey {
        case name, listen, strategy, lock, instances, maintenance, secrets, shared, watch, canary, accessories, processes, continuous
        case currentRelease = "current_release", previousRelease = "previous_release", diskFree = "disk_free"
        case memoryLimit = "memory_limit", memoryLimitEnforcement = "memory_limit_enforcement"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        currentRelease = try c.decodeIfPresent(String.self, forKey: .currentRelease)
        previousRelease = try c.decodeIfPresent(String.self, forKey: .previousRelease)
        listen = try c.decode(String.self, forKey: .listen)
        strategy = try c.decode(DeployStrategy.self, forKey: .strategy)
        lock = try c.decodeIfPresent(LockInfo.self, forKey: .lock)
        instances = try c.decode([InstanceInfo].self, forKey: .instances)
        maintenance = try c.decodeIfPresent(MaintenanceMode.self, forKey: .maintenance)
        secrets = try c.decodeIfPresent([SecretInfo].self, forKey: .secrets) ?? []
        shared = try c.decodeIfPresent(String.self, forKey: .shared)
        watch = try c.decodeIfPresent(WatchInfo.self, forKey: .watch)
        canary = try c.decodeIfPresent(CanaryInfo.self, forKey: .canary)
        diskFree = try c.decodeIfPresent(Double.self, forKey: .diskFree)
        memoryLimit = try c.decodeIfPresent(Int64.self, forKey: .memoryLimit)
        memoryLimitEnforcement = try c.decodeIfPresent(String.self, forKey: .memoryLimitEnforcement)
        accessories = try c.decodeIfPresent([AccessoryInfo].self, forKey: .accessories)
        processes = try c.decodeIfPresent([ProcessTypeInfo].self, forKey: .processes)
        continuous = try c.decodeIfPresent([ContinuousStatus].self, forKey: .continuous)
    }
}
