"""The schema of the first release, frozen.

Every later change is a migration of its own that revises "0001".

Revision ID: 0001
Revises:
"""

from alembic import op
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)

from reconciler.db.base import Money, Rate, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _create_partial_index(name: str, table: str, columns: list[str], *, where: str) -> None:
    """An index of only the rows `where` holds, on SQLite and PostgreSQL alike (as
    `reconciler.db.base.partial_index` declares it)."""
    condition = text(where)
    op.create_index(name, table, columns, sqlite_where=condition, postgresql_where=condition)


def upgrade() -> None:
    # Bank side: raw files, statements, transactions (reconciler.db.bank).
    op.create_table(
        "bank_files",
        Column("id", Integer, nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("filename", String(255), nullable=False),
        Column("source", String(64)),
        Column("format", String(40)),
        Column("size", Integer, nullable=False),
        Column("content", LargeBinary, nullable=False),
        Column("status", String(16), nullable=False),
        Column("error", Text),
        Column("diagnostics", JSON, nullable=False),
        Column("received_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("id", name="pk_bank_files"),
        UniqueConstraint("sha256", name="uq_bank_files_sha256"),
    )

    op.create_table(
        "statements",
        Column("id", Integer, nullable=False),
        Column("file_id", Integer, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("account", String(64), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("statement_id", String(64), nullable=False),
        Column("sequence", String(32), nullable=False),
        Column("opening_balance", Money()),
        Column("closing_balance", Money()),
        Column("opening_date", Date),
        Column("closing_date", Date),
        Column("balance_ok", Boolean),
        Column("imported_at", UTCDateTime(), nullable=False),
        ForeignKeyConstraint(["file_id"], ["bank_files.id"],
                             name="fk_statements_file_id_bank_files"),
        PrimaryKeyConstraint("id", name="pk_statements"),
        UniqueConstraint("account", "statement_id", "sequence", "kind", "closing_date",
                         name="uq_statements_account_statement_id_sequence_kind_closing_date"),
    )
    op.create_index("ix_statements_account", "statements", ["account"])
    op.create_index("ix_statements_file_id", "statements", ["file_id"])

    op.create_table(
        "transactions",
        Column("id", Integer, nullable=False),
        Column("statement_id", Integer, nullable=False),
        Column("position", Integer, nullable=False),
        Column("account", String(64), nullable=False),
        Column("amount", Money(), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("booking_date", Date),
        Column("value_date", Date),
        Column("bank_reference", String(128), nullable=False),
        Column("end_to_end_id", String(128)),
        Column("entry_reference", String(128)),
        Column("counterparty_name", String(200)),
        Column("counterparty_iban", String(64)),
        Column("counterparty_bic", String(11)),
        Column("ultimate_debtor", String(200)),
        Column("creditor_reference", String(64)),
        Column("remittance_text", Text),
        Column("bank_transaction_code", String(64)),
        Column("entry_status", String(16), nullable=False),
        Column("return_reason", String(64)),
        Column("charges_amount", Money()),
        Column("is_reversal", Boolean, nullable=False),
        Column("details", JSON, nullable=False),
        Column("raw", Text),
        Column("state", String(16), nullable=False),
        Column("linked_to_id", Integer),
        ForeignKeyConstraint(["linked_to_id"], ["transactions.id"],
                             name="fk_transactions_linked_to_id_transactions"),
        ForeignKeyConstraint(["statement_id"], ["statements.id"],
                             name="fk_transactions_statement_id_statements"),
        PrimaryKeyConstraint("id", name="pk_transactions"),
    )
    op.create_index("ix_transactions_bank_reference", "transactions", ["bank_reference"])
    op.create_index("ix_transactions_counterparty_iban", "transactions", ["counterparty_iban"])
    op.create_index("ix_transactions_creditor_reference", "transactions", ["creditor_reference"])
    op.create_index("ix_transactions_entry_reference", "transactions", ["entry_reference"])
    _create_partial_index("ix_transactions_state_amount", "transactions", ["state", "amount"],
                          where="state != 'applied'")
    op.create_index("ix_transactions_statement_id", "transactions", ["statement_id"])

    # Receivables master data from the ERP (reconciler.db.ledger).
    op.create_table(
        "customers",
        Column("id", Integer, nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("name", String(200), nullable=False),
        Column("normalized_name", String(200), nullable=False),
        Column("parent_customer_id", String(64)),
        Column("segment", String(40)),
        Column("country", String(2)),
        Column("payment_terms", String(40)),
        Column("email", String(200)),
        Column("credit_limit", Money()),
        Column("currency", String(3)),
        Column("language", String(5)),
        Column("updated_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("id", name="pk_customers"),
        UniqueConstraint("customer_id", name="uq_customers_customer_id"),
    )
    op.create_index("ix_customers_normalized_name", "customers", ["normalized_name"])
    op.create_index("ix_customers_parent_customer_id", "customers", ["parent_customer_id"])

    op.create_table(
        "customer_ibans",
        Column("id", Integer, nullable=False),
        Column("customer_pk", Integer, nullable=False),
        Column("iban", String(34), nullable=False),
        ForeignKeyConstraint(["customer_pk"], ["customers.id"],
                             name="fk_customer_ibans_customer_pk_customers", ondelete="CASCADE"),
        PrimaryKeyConstraint("id", name="pk_customer_ibans"),
        UniqueConstraint("customer_pk", "iban", name="uq_customer_ibans_customer_pk_iban"),
    )
    op.create_index("ix_customer_ibans_iban", "customer_ibans", ["iban"])

    op.create_table(
        "open_items",
        Column("id", Integer, nullable=False),
        Column("entity", String(40), nullable=False),
        Column("document_number", String(64), nullable=False),
        Column("document_type", String(16), nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("amount", Money(), nullable=False),
        Column("open_amount", Money(), nullable=False),
        Column("erp_open_amount", Money(), nullable=False),
        Column("issue_date", Date, nullable=False),
        Column("due_date", Date, nullable=False),
        Column("payment_reference", String(64)),
        Column("discount_rate", Rate()),
        Column("discount_due_date", Date),
        Column("status", String(16), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("id", name="pk_open_items"),
        UniqueConstraint("entity", "document_number", name="uq_open_items_entity_document_number"),
    )
    op.create_index("ix_open_items_customer_id", "open_items", ["customer_id"])
    op.create_index("ix_open_items_document_number", "open_items", ["document_number"])
    op.create_index("ix_open_items_due_date", "open_items", ["due_date"])
    _create_partial_index("ix_open_items_open_amount", "open_items", ["open_amount"],
                          where="status = 'open'")
    _create_partial_index("ix_open_items_status_customer", "open_items", ["status", "customer_id"],
                          where="status != 'closed'")

    # Matching results (reconciler.db.matching).
    op.create_table(
        "proposals",
        Column("id", Integer, nullable=False),
        Column("transaction_id", Integer, nullable=False),
        Column("run_id", Integer, nullable=False),
        Column("rank", Integer, nullable=False),
        Column("matcher", String(64), nullable=False),
        Column("customer_id", String(64)),
        Column("confidence", Float, nullable=False),
        Column("decision", String(16), nullable=False),
        Column("allocations", JSON, nullable=False),
        Column("adjustments", JSON, nullable=False),
        Column("evidence", JSON, nullable=False),
        Column("explanation", Text, nullable=False),
        Column("state", String(16), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        ForeignKeyConstraint(["transaction_id"], ["transactions.id"],
                             name="fk_proposals_transaction_id_transactions"),
        PrimaryKeyConstraint("id", name="pk_proposals"),
        UniqueConstraint("transaction_id", "run_id", "rank",
                         name="uq_proposals_transaction_id_run_id_rank"),
    )
    op.create_index("ix_proposals_customer_state_confidence", "proposals",
                    ["customer_id", "state", "confidence"])
    op.create_index("ix_proposals_state_confidence", "proposals", ["state", "confidence"])
    op.create_index("ix_proposals_transaction_id", "proposals", ["transaction_id"])

    op.create_table(
        "applications",
        Column("id", Integer, nullable=False),
        Column("transaction_id", Integer, nullable=False),
        Column("customer_id", String(64)),
        Column("status", String(16), nullable=False),
        Column("matcher", String(64)),
        Column("confidence", Float),
        Column("explanation", Text, nullable=False),
        Column("actor", String(100), nullable=False),
        Column("proposed_by", String(100)),
        Column("applied_at", UTCDateTime(), nullable=False),
        Column("reverses_id", Integer),
        Column("reversed_by_id", Integer),
        ForeignKeyConstraint(["reversed_by_id"], ["applications.id"],
                             name="fk_applications_reversed_by_id_applications"),
        ForeignKeyConstraint(["reverses_id"], ["applications.id"],
                             name="fk_applications_reverses_id_applications"),
        ForeignKeyConstraint(["transaction_id"], ["transactions.id"],
                             name="fk_applications_transaction_id_transactions"),
        PrimaryKeyConstraint("id", name="pk_applications"),
    )
    op.create_index("ix_applications_customer_id", "applications", ["customer_id"])
    op.create_index("ix_applications_transaction_id", "applications", ["transaction_id"])

    op.create_table(
        "application_lines",
        Column("id", Integer, nullable=False),
        Column("application_id", Integer, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("item_id", Integer),
        Column("amount", Money(), nullable=False),
        Column("reason", Text, nullable=False),
        ForeignKeyConstraint(["application_id"], ["applications.id"],
                             name="fk_application_lines_application_id_applications",
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["item_id"], ["open_items.id"],
                             name="fk_application_lines_item_id_open_items"),
        PrimaryKeyConstraint("id", name="pk_application_lines"),
    )
    op.create_index("ix_application_lines_application_id", "application_lines", ["application_id"])
    op.create_index("ix_application_lines_item_id", "application_lines", ["item_id"])

    op.create_table(
        "learned_evidence",
        Column("id", Integer, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("value", String(200), nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("source_transaction_id", Integer),
        Column("created_by", String(100), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("active", Boolean, nullable=False),
        ForeignKeyConstraint(["source_transaction_id"], ["transactions.id"],
                             name="fk_learned_evidence_source_transaction_id_transactions"),
        PrimaryKeyConstraint("id", name="pk_learned_evidence"),
        UniqueConstraint("kind", "value", "customer_id",
                         name="uq_learned_evidence_kind_value_customer_id"),
    )
    op.create_index("ix_learned_evidence_customer_id", "learned_evidence", ["customer_id"])
    op.create_index("ix_learned_evidence_value", "learned_evidence", ["value"])

    op.create_table(
        "match_runs",
        Column("id", Integer, nullable=False),
        Column("started_at", UTCDateTime(), nullable=False),
        Column("finished_at", UTCDateTime()),
        Column("dry_run", Boolean, nullable=False),
        Column("summary", JSON, nullable=False),
        PrimaryKeyConstraint("id", name="pk_match_runs"),
    )

    # Collections (reconciler.db.collections).
    op.create_table(
        "disputes",
        Column("id", Integer, nullable=False),
        Column("item_id", Integer, nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("reason_code", String(32), nullable=False),
        Column("status", String(16), nullable=False),
        Column("owner", String(100)),
        Column("target_date", Date),
        Column("amount", Money()),
        Column("source_transaction_id", Integer),
        Column("opened_by", String(100), nullable=False),
        Column("opened_at", UTCDateTime(), nullable=False),
        Column("resolution", String(32)),
        Column("resolved_by", String(100)),
        Column("resolved_at", UTCDateTime()),
        Column("item_status_before", String(16), nullable=False),
        ForeignKeyConstraint(["item_id"], ["open_items.id"],
                             name="fk_disputes_item_id_open_items"),
        ForeignKeyConstraint(["source_transaction_id"], ["transactions.id"],
                             name="fk_disputes_source_transaction_id_transactions"),
        PrimaryKeyConstraint("id", name="pk_disputes"),
    )
    op.create_index("ix_disputes_item_id", "disputes", ["item_id"])
    op.create_index("ix_disputes_status_customer", "disputes", ["status", "customer_id"])

    op.create_table(
        "dispute_notes",
        Column("id", Integer, nullable=False),
        Column("dispute_id", Integer, nullable=False),
        Column("author", String(100), nullable=False),
        Column("text", Text, nullable=False),
        Column("at", UTCDateTime(), nullable=False),
        ForeignKeyConstraint(["dispute_id"], ["disputes.id"],
                             name="fk_dispute_notes_dispute_id_disputes"),
        PrimaryKeyConstraint("id", name="pk_dispute_notes"),
    )
    op.create_index("ix_dispute_notes_dispute_id", "dispute_notes", ["dispute_id"])

    op.create_table(
        "promises",
        Column("id", Integer, nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("item_ids", JSON, nullable=False),
        Column("amount", Money(), nullable=False),
        Column("promised_date", Date, nullable=False),
        Column("status", String(16), nullable=False),
        Column("created_by", String(100), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("closed_at", UTCDateTime()),
        PrimaryKeyConstraint("id", name="pk_promises"),
    )
    op.create_index("ix_promises_customer_id", "promises", ["customer_id"])

    op.create_table(
        "item_dunning",
        Column("item_id", Integer, nullable=False),
        Column("level", Integer, nullable=False),
        Column("stage", String(40)),
        Column("last_action_date", Date),
        Column("priority", Integer, nullable=False),
        ForeignKeyConstraint(["item_id"], ["open_items.id"],
                             name="fk_item_dunning_item_id_open_items"),
        PrimaryKeyConstraint("item_id", name="pk_item_dunning"),
    )

    op.create_table(
        "dunning_runs",
        Column("id", Integer, nullable=False),
        Column("run_date", Date, nullable=False),
        Column("started_at", UTCDateTime(), nullable=False),
        Column("actor", String(100), nullable=False),
        Column("summary", JSON, nullable=False),
        PrimaryKeyConstraint("id", name="pk_dunning_runs"),
        UniqueConstraint("run_date", name="uq_dunning_runs_run_date"),
    )

    op.create_table(
        "dunning_actions",
        Column("id", Integer, nullable=False),
        Column("run_id", Integer, nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("stage", String(40), nullable=False),
        Column("level", Integer, nullable=False),
        Column("channel", String(16), nullable=False),
        Column("owner", String(100)),
        Column("segment", String(40)),
        Column("language", String(5), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("total", Money(), nullable=False),
        Column("fee", Money(), nullable=False),
        Column("interest", Money(), nullable=False),
        Column("items", JSON, nullable=False),
        Column("risk_score", Integer, nullable=False),
        Column("priority", Integer, nullable=False),
        Column("subject", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("outcome", String(32)),
        Column("outcome_note", Text),
        Column("created_at", UTCDateTime(), nullable=False),
        ForeignKeyConstraint(["run_id"], ["dunning_runs.id"],
                             name="fk_dunning_actions_run_id_dunning_runs"),
        PrimaryKeyConstraint("id", name="pk_dunning_actions"),
        UniqueConstraint("run_id", "customer_id", name="uq_dunning_actions_run_id_customer_id"),
    )
    op.create_index("ix_dunning_actions_customer_id", "dunning_actions", ["customer_id"])
    op.create_index("ix_dunning_actions_run_id", "dunning_actions", ["run_id"])
    op.create_index("ix_dunning_actions_status_priority", "dunning_actions", ["status", "priority"])

    op.create_table(
        "email_outbox",
        Column("id", Integer, nullable=False),
        Column("action_id", Integer),
        Column("recipient", String(200), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text),
        Column("message_id", String(200)),
        Column("sent_at", UTCDateTime()),
        ForeignKeyConstraint(["action_id"], ["dunning_actions.id"],
                             name="fk_email_outbox_action_id_dunning_actions"),
        PrimaryKeyConstraint("id", name="pk_email_outbox"),
        UniqueConstraint("action_id", name="uq_email_outbox_action_id"),
    )

    op.create_table(
        "kpi_snapshots",
        Column("id", Integer, nullable=False),
        Column("as_of", Date, nullable=False),
        Column("dimension", String(16), nullable=False),
        Column("value", String(64), nullable=False),
        Column("figures", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("id", name="pk_kpi_snapshots"),
        UniqueConstraint("as_of", "dimension", "value",
                         name="uq_kpi_snapshots_as_of_dimension_value"),
    )

    # Jobs: bank source files, job history, leases (reconciler.db.jobs).
    op.create_table(
        "source_files",
        Column("id", Integer, nullable=False),
        Column("source", String(64), nullable=False),
        Column("name", String(255), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("mtime", BigInteger, nullable=False),
        Column("state", String(16), nullable=False),
        Column("sha256", String(64)),
        Column("bank_file_id", Integer),
        Column("outcome", String(32)),
        Column("error", Text),
        Column("first_seen_at", UTCDateTime(), nullable=False),
        Column("imported_at", UTCDateTime()),
        Column("acknowledged_at", UTCDateTime()),
        ForeignKeyConstraint(["bank_file_id"], ["bank_files.id"],
                             name="fk_source_files_bank_file_id_bank_files"),
        PrimaryKeyConstraint("id", name="pk_source_files"),
        UniqueConstraint("source", "name", "size", "mtime",
                         name="uq_source_files_source_name_size_mtime"),
    )
    op.create_index("ix_source_files_sha256", "source_files", ["sha256"])
    op.create_index("ix_source_files_source_state", "source_files", ["source", "state"])

    op.create_table(
        "job_runs",
        Column("id", Integer, nullable=False),
        Column("job", String(100), nullable=False),
        Column("holder", String(200), nullable=False),
        Column("status", String(16), nullable=False),
        Column("started_at", UTCDateTime(), nullable=False),
        Column("finished_at", UTCDateTime()),
        Column("summary", JSON, nullable=False),
        Column("error", Text),
        PrimaryKeyConstraint("id", name="pk_job_runs"),
    )
    op.create_index("ix_job_runs_job_started", "job_runs", ["job", "started_at"])

    op.create_table(
        "job_leases",
        Column("job", String(100), nullable=False),
        Column("holder", String(200)),
        Column("expires_at", UTCDateTime(), nullable=False),
        Column("renewed_at", UTCDateTime()),
        Column("runs", Integer, nullable=False),
        PrimaryKeyConstraint("job", name="pk_job_leases"),
    )

    # Postings for the ERP and their delivery (reconciler.db.outbox).
    op.create_table(
        "postings",
        Column("id", Integer, nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("posting_id", String(64), nullable=False),
        Column("application_id", Integer, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("reverses_sequence", BigInteger),
        Column("transaction_id", Integer, nullable=False),
        Column("customer_id", String(64)),
        Column("currency", String(3), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        ForeignKeyConstraint(["application_id"], ["applications.id"],
                             name="fk_postings_application_id_applications"),
        ForeignKeyConstraint(["transaction_id"], ["transactions.id"],
                             name="fk_postings_transaction_id_transactions"),
        PrimaryKeyConstraint("id", name="pk_postings"),
        UniqueConstraint("application_id", name="uq_postings_application_id"),
        UniqueConstraint("posting_id", name="uq_postings_posting_id"),
        UniqueConstraint("sequence", name="uq_postings_sequence"),
    )
    op.create_index("ix_postings_transaction_id", "postings", ["transaction_id"])

    op.create_table(
        "outbox_deliveries",
        Column("id", Integer, nullable=False),
        Column("sink", String(64), nullable=False),
        Column("posting_pk", Integer, nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("state", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", UTCDateTime(), nullable=False),
        Column("claimed_until", UTCDateTime()),
        Column("last_error", Text),
        Column("delivered_at", UTCDateTime()),
        Column("ack", Text),
        Column("created_at", UTCDateTime(), nullable=False),
        ForeignKeyConstraint(["posting_pk"], ["postings.id"],
                             name="fk_outbox_deliveries_posting_pk_postings"),
        PrimaryKeyConstraint("id", name="pk_outbox_deliveries"),
        UniqueConstraint("sink", "posting_pk", name="uq_outbox_deliveries_sink_posting_pk"),
    )
    op.create_index("ix_outbox_deliveries_due", "outbox_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_deliveries_posting_pk", "outbox_deliveries", ["posting_pk"])

    # Web users, tokens, sign-in attempts (reconciler.db.users).
    op.create_table(
        "users",
        Column("id", Integer, nullable=False),
        Column("name", String(100), nullable=False),
        Column("role", String(16), nullable=False),
        Column("password_hash", String(255), nullable=False),
        Column("active", Boolean, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("disabled_at", UTCDateTime()),
        PrimaryKeyConstraint("id", name="pk_users"),
        UniqueConstraint("name", name="uq_users_name"),
    )

    op.create_table(
        "api_tokens",
        Column("id", Integer, nullable=False),
        Column("user_id", Integer, nullable=False),
        Column("token_hash", String(64), nullable=False),
        Column("label", String(100), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("last_used_at", UTCDateTime()),
        Column("revoked", Boolean, nullable=False),
        ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users"),
        PrimaryKeyConstraint("id", name="pk_api_tokens"),
        UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])

    op.create_table(
        "login_attempts",
        Column("id", Integer, nullable=False),
        Column("name", String(100), nullable=False),
        Column("remote", String(64), nullable=False),
        Column("at", UTCDateTime(), nullable=False),
        Column("success", Boolean, nullable=False),
        PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_name", "login_attempts", ["name"])
    op.create_index("ix_login_attempts_remote_at", "login_attempts", ["remote", "at"])

    # The audit journal (reconciler.db.journal).
    op.create_table(
        "journal",
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), autoincrement=False,
               nullable=False),
        Column("at", UTCDateTime(), nullable=False),
        Column("actor", String(100), nullable=False),
        Column("action", String(64), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("reason", Text, nullable=False),
        Column("data", JSON, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        PrimaryKeyConstraint("seq", name="pk_journal"),
    )
    op.create_index("ix_journal_actor", "journal", ["actor"])
    op.create_index("ix_journal_subject", "journal", ["subject"])

    journal_head = op.create_table(
        "journal_head",
        Column("id", Integer, nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("hash", String(64), nullable=False),
        PrimaryKeyConstraint("id", name="pk_journal_head"),
    )
    # The journal's chain head exists from the start, so that concurrent first writers lock
    # it instead of racing to create it.
    op.bulk_insert(journal_head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    # Dependants before the tables they refer to; indexes and constraints go with their table.
    op.drop_table("journal_head")
    op.drop_table("journal")
    op.drop_table("login_attempts")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("outbox_deliveries")
    op.drop_table("postings")
    op.drop_table("job_leases")
    op.drop_table("job_runs")
    op.drop_table("source_files")
    op.drop_table("kpi_snapshots")
    op.drop_table("email_outbox")
    op.drop_table("dunning_actions")
    op.drop_table("dunning_runs")
    op.drop_table("item_dunning")
    op.drop_table("promises")
    op.drop_table("dispute_notes")
    op.drop_table("disputes")
    op.drop_table("match_runs")
    op.drop_table("learned_evidence")
    op.drop_table("application_lines")
    op.drop_table("applications")
    op.drop_table("proposals")
    op.drop_table("open_items")
    op.drop_table("customer_ibans")
    op.drop_table("customers")
    op.drop_table("transactions")
    op.drop_table("statements")
    op.drop_table("bank_files")
