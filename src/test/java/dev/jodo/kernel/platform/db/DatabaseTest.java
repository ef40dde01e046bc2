package dev.jodo.kernel.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.Secret;
import dev.jodo.kernel.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DatabaseTest {
  private DatabaseTarget.External target;

  @BeforeEach
  void freshDatabase() {
    target = TestPostgres.freshDatabase(DatabaseTest.class);
  }

  @AfterEach
  void dropDatabase() {
    TestPostgres.drop(target);
  }

  @Test
  void theLatestMigrationConstantNamesTheNewestFile() throws Exception {
    int newest;
    try (Stream<Path> files = Files.list(Path.of("src/main/resources/db/migration"))) {
      newest =
          files
              .map(f -> f.getFileName().toString())
              .peek(
                  name ->
                      assertThat(name)
                          .as(
                              "the start's fast path knows only whole versions (V<n>__*.sql) and"
                                  + " no repeatable (R__) scripts: teach Database.upToDate first")
                          .matches("V\\d+__[a-z0-9_]+\\.sql"))
              .map(name -> Integer.parseInt(name.substring(1, name.indexOf("__"))))
              .max(Integer::compare)
              .orElseThrow();
    }
    assertThat(Database.LATEST_KERNEL_MIGRATION).isEqualTo(String.valueOf(newest));
  }

  @Test
  void anUpToDateSchemaIsAnsweredWithoutFlywayAndAnythingElseGoesThroughIt() throws Exception {
    try (Database db = Database.open(target, null, "test")) {
      assertThat(db.migrate(Database.KERNEL_MIGRATIONS)).isPositive();
      // An applied script's recorded checksum altered: Flyway would refuse it; one query does not
      // look (the documented price of the fast start).
      execute(db, "UPDATE kernel_schema_history SET checksum = checksum + 1 WHERE version = '1'");
      assertThat(db.migrate(Database.KERNEL_MIGRATIONS)).isZero();
      // Behind the newest version: Flyway runs, validates, and names the mismatch.
      execute(
          db,
          "DELETE FROM kernel_schema_history WHERE version = '"
              + Database.LATEST_KERNEL_MIGRATION
              + "'");
      assertThatThrownBy(() -> db.migrate(Database.KERNEL_MIGRATIONS))
          .isInstanceOf(MigrationException.class)
          .hasMessageStartingWith("database migrations failed validation: ")
          .hasMessageContaining("checksum mismatch for migration version 1");
      // With the checksum right again, Flyway applies the missing version.
      execute(db, "UPDATE kernel_schema_history SET checksum = checksum - 1 WHERE version = '1'");
      execute(db, "DROP INDEX conversation_runs_finished");
      assertThat(db.migrate(Database.KERNEL_MIGRATIONS)).isEqualTo(1);
      assertThat(db.migrate(Database.KERNEL_MIGRATIONS)).isZero();
      // Other locations always go through Flyway, up to date or not.
      assertThatThrownBy(() -> db.migrate(List.of("classpath:db/migration", "classpath:db/broken")))
          .isInstanceOf(MigrationException.class)
          .hasMessageContaining("V999__broken_on_purpose.sql");
      // A failed migration on record goes through Flyway, which refuses it, even though the
      // newest version is there.
      execute(
          db,
          "INSERT INTO kernel_schema_history (installed_rank, version, description, type,"
              + " script, checksum, installed_by, execution_time, success)"
              + " VALUES (1000, '12.5', 'half applied', 'SQL', 'V12_5__half.sql', 0,"
              + " 'postgres', 1, false)");
      assertThatThrownBy(() -> db.migrate(Database.KERNEL_MIGRATIONS))
          .isInstanceOf(MigrationException.class)
          .hasMessageContaining("12.5");
    }
  }

  private static void execute(Database db, String sql) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void migrationsCreateSeedTablesAndAreIdempotent() throws Exception {
    try (Database db = Database.open(target, null, "test")) {
      assertThat(db.migrate(Database.KERNEL_MIGRATIONS)).isPositive();
      assertThat(db.migrate(Database.KERNEL_MIGRATIONS)).isZero();
      assertThat(tables(db))
          .contains("memories", "budget_usage", "growth_log", "health_checks", "api_tokens");
      try (Connection c = db.dataSource().getConnection();
          Statement s = c.createStatement()) {
        s.execute(
            "INSERT INTO memories (id, namespace, content, embedding, embedding_model)"
                + " VALUES ('mem_1', 'jodo', 'hello', '{0.1,0.2}', 'all-minilm-l6-v2')");
        try (ResultSet rs = s.executeQuery("SELECT embedding[2] FROM memories")) {
          rs.next();
          assertThat(rs.getFloat(1)).isEqualTo(0.2f);
        }
      }
    }
  }

  @Test
  void kernelsMigratingAtOnceApplyEachMigrationOnce() throws Exception {
    int kernels = 4;
    ExecutorService pool = Executors.newFixedThreadPool(kernels);
    List<Database> databases = new ArrayList<>();
    try {
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int i = 0; i < kernels; i++) {
        Database db = Database.open(target, null, "k" + i);
        databases.add(db);
        tasks.add(() -> db.migrate(Database.KERNEL_MIGRATIONS));
      }
      int applied = 0;
      for (Future<Integer> result : pool.invokeAll(tasks)) {
        applied += result.get();
      }
      int expected = countFiles();
      assertThat(applied).isEqualTo(expected);
      try (Connection c = databases.get(0).dataSource().getConnection();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery("SELECT count(*) FROM kernel_schema_history WHERE success")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(expected);
      }
    } finally {
      pool.shutdownNow();
      databases.forEach(Database::close);
    }
  }

  @Test
  void failingMigrationNamesTheFileAndTheSqlError() {
    try (Database db = Database.open(target, null, "test")) {
      assertThatThrownBy(() -> db.migrate(List.of("classpath:db/migration", "classpath:db/broken")))
          .isInstanceOf(MigrationException.class)
          .hasMessage(
              "database migration V999__broken_on_purpose.sql failed: ERROR: relation \"no_such_table\" does not exist");
    }
  }

  @Test
  void unreachableServerFailsWithTheUrlButNotThePassword() {
    DatabaseTarget.External wrong =
        new DatabaseTarget.External(
            "jdbc:postgresql://127.0.0.1:1/nothing?password=hunter2",
            "jodo",
            new Secret("hunter2"),
            2);
    assertThatThrownBy(() -> Database.open(wrong, null, "test"))
        .isInstanceOf(DatabaseUnavailableException.class)
        .hasMessageStartingWith(
            "cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/nothing?password=****: ")
        .hasMessageEndingWith("; check JODO_DATABASE_URL or the database section of config.yaml")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  private static List<String> tables(Database db) throws SQLException {
    List<String> tables = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        ResultSet rs = c.getMetaData().getTables(null, "public", "%", new String[] {"TABLE"})) {
      while (rs.next()) {
        tables.add(rs.getString("TABLE_NAME"));
      }
    }
    return tables;
  }

  private static int countFiles() throws Exception {
    try (var files =
        java.nio.file.Files.list(java.nio.file.Path.of("src/main/resources/db/migration"))) {
      return (int) files.filter(p -> p.toString().endsWith(".sql")).count();
    }
  }
}
