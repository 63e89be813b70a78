// @generated automatically by Diesel CLI.

diesel::table! {
    logs (id) {
        id -> Integer,
        run_id -> Integer,
        node_id -> Nullable<Integer>,
        level -> Text,
        message -> Text,
        logged_at -> Timestamp,
    }
}

diesel::table! {
    messages_in (id) {
        id -> Integer,
        run_id -> Integer,
        src_node_id -> Integer,
        message_type -> Text,
        content -> Binary,
        created_at -> Timestamp,
        ttl -> Double,
    }
}

diesel::table! {
    messages_out (id) {
        id -> Integer,
        run_id -> Integer,
        dst_node_id -> Integer,
        reply_to_id -> Nullable<Integer>,
        message_type -> Text,
        content -> Binary,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    nodes (id) {
        id -> Integer,
        public_key -> Nullable<Binary>,
        online_until -> Nullable<Timestamp>,
        heartbeat_interval -> Double,
        created_at -> Timestamp,
    }
}

diesel::table! {
    object_children (parent_id, child_id) {
        parent_id -> Text,
        child_id -> Text,
    }
}

diesel::table! {
    objects (object_id) {
        object_id -> Text,
        size -> BigInt,
        content -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    run_contexts (run_id, node_id) {
        run_id -> Integer,
        node_id -> Integer,
        state -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    run_nodes (run_id, node_id) {
        run_id -> Integer,
        node_id -> Integer,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    run_objects (run_id, object_id) {
        run_id -> Integer,
        object_id -> Text,
    }
}

diesel::table! {
    runs (id) {
        id -> Integer,
        name -> Text,
        status -> Text,
        config -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tokens (token) {
        token -> Text,
        run_id -> Integer,
        node_id -> Integer,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(logs -> nodes (node_id));
diesel::joinable!(logs -> runs (run_id));
diesel::joinable!(messages_in -> nodes (src_node_id));
diesel::joinable!(messages_in -> runs (run_id));
diesel::joinable!(messages_out -> messages_in (reply_to_id));
diesel::joinable!(messages_out -> nodes (dst_node_id));
diesel::joinable!(messages_out -> runs (run_id));
diesel::joinable!(object_children -> objects (parent_id));
diesel::joinable!(run_contexts -> nodes (node_id));
diesel::joinable!(run_contexts -> runs (run_id));
diesel::joinable!(run_nodes -> nodes (node_id));
diesel::joinable!(run_nodes -> runs (run_id));
diesel::joinable!(run_objects -> objects (object_id));
diesel::joinable!(run_objects -> runs (run_id));
diesel::joinable!(tokens -> nodes (node_id));
diesel::joinable!(tokens -> runs (run_id));

diesel::allow_tables_to_appear_in_same_query!(
    logs,
    messages_in,
    messages_out,
    nodes,
    object_children,
    objects,
    run_contexts,
    run_nodes,
    run_objects,
    runs,
    tokens,
);
