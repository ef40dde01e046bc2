package dev.jodo.kernel.dashboard;

import dev.jodo.kernel.agents.AgentsModule;
import dev.jodo.kernel.gateway.InferenceView;
import dev.jodo.kernel.memory.MemoryService;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.config.KernelConfig;
import java.time.Clock;
import javax.sql.DataSource;

/**
 * What the control panel reads and drives: the kernel's services, given by the composition root.
 */
public record Dashboard(
    KernelConfig config,
    DataSource dataSource,
    Clock clock,
    TokenService tokens,
    AgentsModule agents,
    InferenceView inference,
    MemoryService memory) {}
