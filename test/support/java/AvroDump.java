import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

// An independent reader of what shopstream's producer writes in Avro: Apache Avro's own Java
// library, with the writer's schema fetched from the registry by the id each value carries
// (Confluent wire format: magic byte 0, 4-byte big-endian id, Avro binary). None of our code is
// involved, so a value that only our TypeScript codec could read fails here.
//
// Args: <bootstrap servers> <topic> <registry base URL (.../apis/ccompat/v7)> <expected count>
// Prints per record: schemaId, event_type, event_id, data id (or order_id), occurred_at millis
// [, total_amount, coupon_code for order_created], tab-separated.
public class AvroDump {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<Integer, GenericDatumReader<GenericRecord>> READERS = new HashMap<>();

  public static void main(String[] args) {
    try {
      if (args.length != 4) throw new IllegalArgumentException("usage: AvroDump <bootstrap servers> <topic> <registry url> <expected count>");
      run(args[0], args[1], args[2].replaceAll("/+$", ""), Integer.parseInt(args[3]));
    } catch (Exception e) {
      System.err.println("AvroDump: " + e);
      System.exit(1);
    }
  }

  private static void run(String brokers, String topic, String registry, int expected) throws Exception {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    // no group: nothing to commit, and nothing left behind on the cluster
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition()))
          .collect(Collectors.toList());
      if (partitions.isEmpty()) throw new IllegalStateException("topic " + topic + " has no partitions");
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.currentTimeMillis() + 60_000;
      int read = 0;
      while (read < expected) {
        if (System.currentTimeMillis() > deadline)
          throw new IllegalStateException("read " + read + " of " + expected + " records of " + topic + " within 60 s");
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          out.write(line(r, registry));
          out.newLine();
          read++;
        }
      }
    }
    out.flush();
  }

  private static String line(ConsumerRecord<String, byte[]> r, String registry) throws Exception {
    String where = r.topic() + "/" + r.partition() + "@" + r.offset();
    byte[] value = r.value();
    if (value == null || value.length < 5) throw new IllegalStateException(where + ": value too short for the wire format");
    if (value[0] != 0) throw new IllegalStateException(where + ": magic byte " + value[0] + ", not 0");
    int id = ByteBuffer.wrap(value, 1, 4).getInt();
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null);
    GenericRecord event = reader(id, registry).read(null, decoder);
    // every byte belongs to the record: leftovers mean the writer used another schema than it named
    if (!decoder.isEnd()) throw new IllegalStateException(where + ": bytes left after the record (schema id " + id + ")");
    GenericRecord data = (GenericRecord) event.get("data");
    String eventType = event.get("event_type").toString();
    boolean created = data.getSchema().getField("id") != null;
    StringBuilder line = new StringBuilder()
        .append(id).append('\t')
        .append(eventType).append('\t')
        .append(event.get("event_id")).append('\t')
        .append(data.get(created ? "id" : "order_id")).append('\t')
        .append((Long) event.get("occurred_at"));
    if (eventType.equals("order_created")) {
      // version 1 has no coupon_code field at all
      Object coupon = data.getSchema().getField("coupon_code") == null ? null : data.get("coupon_code");
      line.append('\t').append((Long) data.get("total_amount")).append('\t').append(coupon == null ? "null" : coupon.toString());
    }
    return line.toString();
  }

  private static GenericDatumReader<GenericRecord> reader(int id, String registry) throws Exception {
    GenericDatumReader<GenericRecord> cached = READERS.get(id);
    if (cached != null) return cached;
    HttpRequest req = HttpRequest.newBuilder(URI.create(registry + "/schemas/ids/" + id)).timeout(Duration.ofSeconds(10)).GET().build();
    HttpResponse<String> res = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) throw new IllegalStateException("registry answered " + res.statusCode() + " for schema id " + id + ": " + res.body());
    JsonNode schema = JSON.readTree(res.body()).get("schema");
    if (schema == null || !schema.isTextual()) throw new IllegalStateException("registry's answer for schema id " + id + " has no schema: " + res.body());
    GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(new Schema.Parser().parse(schema.asText()));
    READERS.put(id, reader);
    return reader;
  }
}
