diesel::table! {
    posts (id) {
        id -> Integer,
        note -> diesel::sql_types::VarChar,
        name -> Bool,
    }
}
