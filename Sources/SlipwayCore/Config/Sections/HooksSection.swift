import Yams

/// `hooks:`.
enum HooksSection {
    /// Parses `hooks:` (`pre_traffic`, `post_switch`: command lines split into argv; `timeout`).
    static func hooks(_ node: Node, reader: ConfigReader) -> HookSettings? {
        guard let entries = reader.mapping(node, "hooks", allowed: ["pre_traffic", "post_switch", "timeout"]) else { return nil }
        var hooks = HookSettings()
        for e in entries {
            let path = "hooks.\(e.key)"
            if e.key == "timeout" {
                hooks.timeout = reader.duration(e.value, path) ?? hooks.timeout
                continue
            }
            guard let s = reader.command(e.value, path) else { continue }
            if e.key == "pre_traffic" { hooks.preTraffic = s } else { hooks.postSwitch = s }
        }
        return hooks
    }
}
