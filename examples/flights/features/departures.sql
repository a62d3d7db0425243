-- Departed flights with a known arrival, one row each, for the late_arrival task.
-- Lake tables are views named after them; $day is the partition's day (DATE).
select
    strftime(f.flight_date, '%Y-%m-%d') || '/' || f.carrier || f.flight::varchar || '/'
        || f.origin || '-' || lpad(f.sched_dep_time::varchar, 4, '0') as flight_id,
    f.flight_date,
    f.carrier,
    f.origin,
    f.dest,
    f.distance,
    f.hour as sched_dep_hour,
    f.dep_delay,
    w.temp,
    w.wind_speed,
    w.precip,
    w.visib,
    p.seats as plane_seats,
    f.arr_delay > 15 as late
from flights as f
left join weather as w on w.origin = f.origin and w.time_hour = f.time_hour
left join planes as p on p.tailnum = f.tailnum
where f.flight_date = $day and f.arr_delay is not null
order by flight_id
