diesel::table! { t (id) { id -> Integer, a -> Nullable<Integer>, g -> Nullable<Integer>, } }
diesel::table! { o (id) { id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(t, o,);
