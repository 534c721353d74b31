// Sends one empty record per key (hex arguments) with Kafka's own Java producer and prints, per key, Java's
// Utils.murmur2 and the partition the producer chose, so the tests can hold streams.kafka.topics to them.
// Usage: java -cp 'deploy/kafka/lib/*' PartitionProbe.java <bootstrap> <topic> <hex key>...

import java.util.HexFormat;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;

public class PartitionProbe {
    public static void main(String[] args) throws Exception {
        Properties config = new Properties();
        config.put("bootstrap.servers", args[0]);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 2; i < args.length; i++) {
                byte[] key = HexFormat.of().parseHex(args[i]);
                RecordMetadata sent = producer.send(new ProducerRecord<>(args[1], key, new byte[0])).get();
                System.out.println(args[i] + " " + Utils.murmur2(key) + " " + sent.partition());
            }
        }
    }
}
