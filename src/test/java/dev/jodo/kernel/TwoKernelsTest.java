package dev.jodo.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TwoKernelsTest {
  @TempDir Path temp;
  private DatabaseTarget.External database;
  private final List<Kernel> kernels = new ArrayList<>();

  @BeforeEach
  void freshDatabase() {
    database = TestPostgres.freshDatabase(TwoKernelsTest.class);
  }

  @AfterEach
  void stop() {
    kernels.forEach(Kernel::close);
    TestPostgres.drop(database);
  }

  @Test
  void twoKernelsInOneJvmShareOneDatabase() throws Exception {
    KernelConfig a = TestConfigs.kernelConfig(temp.resolve("a"), database);
    KernelConfig b = TestConfigs.kernelConfig(temp.resolve("b"), database);
    // Both boot at once on an empty database: migrations and the first admin token must not race.
    CompletableFuture<Kernel> startA =
        CompletableFuture.supplyAsync(() -> Kernel.start(a, Kernel.Options.defaults()));
    CompletableFuture<Kernel> startB =
        CompletableFuture.supplyAsync(() -> Kernel.start(b, Kernel.Options.defaults()));
    Kernel kernelA = startA.get();
    kernels.add(kernelA);
    Kernel kernelB = startB.get();
    kernels.add(kernelB);
    assertThat(kernelA.port()).isNotEqualTo(kernelB.port());

    List<Optional<?>> firstTokens =
        List.of(kernelA.firstBootAdminToken(), kernelB.firstBootAdminToken());
    assertThat(firstTokens.stream().filter(Optional::isPresent)).hasSize(1);
    String admin =
        kernelA.firstBootAdminToken().or(kernelB::firstBootAdminToken).orElseThrow().value();

    TestHttp httpA = new TestHttp(kernelA.port());
    TestHttp httpB = new TestHttp(kernelB.port());
    assertThat(httpA.get("/api/status", admin).status()).isEqualTo(200);
    assertThat(httpB.get("/api/status", admin).status()).isEqualTo(200);

    // A token created through kernel A works on kernel B.
    String token =
        httpA
            .post("/api/tokens", admin, "{\"agent\":\"jodo\",\"scopes\":[\"genesis\"]}")
            .json()
            .path("token")
            .asText();
    TestHttp.Response genesis = httpB.get("/api/genesis", token);
    assertThat(genesis.status()).isEqualTo(200);
    assertThat(genesis.json().path("identity").path("name").asText()).isEqualTo("Jodo");

    // Stopping one kernel leaves the other serving.
    kernelA.close();
    kernels.remove(kernelA);
    assertThat(httpB.get("/api/status", admin).status()).isEqualTo(200);
  }
}
